/** Every option with its value; changes go to `PUT /options`, errors shown as the CLI words them. */
import { useState } from 'preact/hooks';
import type { WebOption } from '../src/protocol.js';
import { send } from './api.js';
import * as s from './state.js';

/** A typed value from the editor's text: numbers for int options, lists one per line. */
function parse(o: WebOption, text: string): unknown {
  if (o.type === 'sequence of str') return text.split('\n').filter((l) => l.trim() !== '');
  if (o.type === 'int' || o.type === 'optional int') {
    if (text.trim() === '' && o.type === 'optional int') return null;
    return /^[-+]?\d+$/.test(text.trim()) ? Number(text.trim()) : text;
  }
  if (o.type === 'optional str' && text === '') return null;
  return text;
}

const show = (o: WebOption): string =>
  Array.isArray(o.value) ? o.value.join('\n') : o.value === null ? '' : String(o.value);

function OptionRow({ name, o }: { name: string; o: WebOption }) {
  const [error, setError] = useState<string | null>(null);
  const [text, setText] = useState<string | null>(null);
  const put = (value: unknown): void => {
    setError(null);
    send('PUT', '/options', { [name]: value }).then(
      () => setText(null),
      (e: Error) => setError(e.message),
    );
  };
  let input;
  if (o.type === 'bool')
    input = (
      <input type="checkbox" checked={o.value === true} onChange={(e) => put((e.target as HTMLInputElement).checked)} />
    );
  else if (o.choices && o.type !== 'sequence of str')
    input = (
      <select value={String(o.value ?? '')} onChange={(e) => put((e.target as HTMLSelectElement).value)}>
        {o.choices.map((c) => (
          <option value={c}>{c}</option>
        ))}
      </select>
    );
  else {
    const Tag = o.type === 'sequence of str' ? 'textarea' : 'input';
    input = (
      <Tag
        name={name}
        value={text ?? show(o)}
        onInput={(e: Event) => setText((e.target as HTMLInputElement).value)}
        onKeyDown={(e: KeyboardEvent) => e.key === 'Enter' && Tag === 'input' && put(parse(o, text ?? show(o)))}
        onBlur={() => text !== null && put(parse(o, text))}
      />
    );
  }
  return (
    <tr data-option={name}>
      <th>{name}</th>
      <td>
        {input}
        {error ? (
          <div class="error" role="alert">
            {error}
          </div>
        ) : null}
      </td>
      <td class="help">
        {o.help} <span class="muted">({o.type})</span>
      </td>
    </tr>
  );
}

export function OptionsPane() {
  const [q, setQ] = useState('');
  const entries = Object.entries(s.options.value).filter(([n]) => n.includes(q));
  return (
    <div class="options">
      <input placeholder="search options" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
      <table>
        <tbody>
          {entries.map(([n, o]) => (
            <OptionRow key={n} name={n} o={o} />
          ))}
        </tbody>
      </table>
    </div>
  );
}
