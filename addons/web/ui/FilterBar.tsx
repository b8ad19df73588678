/** The filter box (the filter language, validated by the server) and the intercept filter. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { act } from './actions.js';
import { send } from './api.js';
import { setView } from './conn.js';
import * as s from './state.js';

export function FilterBar() {
  const [text, setText] = useState(s.filterText.value);
  const timer = useRef<number | undefined>(undefined);
  const onInput = (v: string): void => {
    setText(v);
    clearTimeout(timer.current);
    timer.current = window.setTimeout(() => setView(v), 200);
  };
  const features = s.serverState.value?.features;
  const interceptOpt = s.options.value['intercept'];
  const [intercept, setIntercept] = useState<string>('');
  const [interceptError, setInterceptError] = useState<string | null>(null);
  useEffect(() => setIntercept(String(interceptOpt?.value ?? '')), [interceptOpt?.value]);
  const setInterceptOption = (): void => {
    setInterceptError(null);
    send('PUT', '/options', { intercept: intercept.trim() === '' ? null : intercept.trim() }).catch((e: Error) =>
      setInterceptError(e.message),
    );
  };
  return (
    <div class="filterbar">
      <label class="filter">
        <span>Filter</span>
        <input
          name="filter"
          class={s.filterError.value ? 'invalid' : ''}
          placeholder="~d example.com & ~c 200, ~b body text, ~bs needle …"
          value={text}
          onInput={(e) => onInput((e.target as HTMLInputElement).value)}
          spellcheck={false}
        />
      </label>
      {features?.intercept ? (
        <label class="intercept">
          <span>Intercept</span>
          <input
            name="intercept"
            value={intercept}
            placeholder="filter of flows to hold"
            onInput={(e) => setIntercept((e.target as HTMLInputElement).value)}
            onKeyDown={(e) => e.key === 'Enter' && setInterceptOption()}
            onBlur={setInterceptOption}
          />
        </label>
      ) : null}
      <button
        title="Resume every held flow"
        onClick={() => void act('Resume all', () => send('POST', '/flows/resume'))}
      >
        Resume all
      </button>
      <button title="Delete every flow" onClick={() => void act('Clear', () => send('POST', '/clear'))}>
        Clear
      </button>
      <span class="counts">
        {s.count.value === s.total.value ? `${s.total.value} flows` : `${s.count.value} of ${s.total.value} flows`}
        {s.connected.value ? '' : ' (disconnected)'}
      </span>
      {s.filterError.value ? (
        <div class="filter-error" role="alert">
          {s.filterError.value}
        </div>
      ) : null}
      {interceptError ? (
        <div class="filter-error" role="alert">
          {interceptError}
        </div>
      ) : null}
    </div>
  );
}
