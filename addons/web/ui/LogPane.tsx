/** The event log (the proxy's log lines, live). */
import { useLayoutEffect, useRef } from 'preact/hooks';
import * as s from './state.js';

export function LogPane() {
  const el = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const d = el.current;
    if (d) d.scrollTop = d.scrollHeight;
  });
  return (
    <div class="log" ref={el}>
      {s.events.value.slice(-300).map((e) => (
        <div key={e.id} class={`ev ev-${e.level}`}>
          {e.addon ? <span class="muted">[{e.addon}] </span> : null}
          {e.message}
        </div>
      ))}
    </div>
  );
}
