/** Editing a request (method, URL, headers, body) or a response (status, headers, body). */
import { useState } from 'preact/hooks';
import type { WebFlow } from '../src/protocol.js';
import { act, edit } from './actions.js';
import { headerText, parseHeaderText } from './format.js';

async function bodyText(url: string, length: number | null): Promise<string> {
  if (!length) return '';
  const r = await fetch(url, { credentials: 'same-origin' });
  return r.ok ? await r.text() : '';
}

export function EditForm({ flow, part, onDone }: { flow: WebFlow; part: 'request' | 'response'; onDone: () => void }) {
  const msg = part === 'request' ? flow.request! : flow.response!;
  const [first, setFirst] = useState(part === 'request' ? flow.request!.method : String(flow.response!.status_code));
  const [url, setUrl] = useState(flow.request?.url ?? '');
  const [headers, setHeaders] = useState(headerText(msg.headers));
  const [body, setBody] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (body === null) void bodyText(`/flows/${flow.id}/${part}/content.data`, msg.contentLength).then(setBody);
  const save = (): void => {
    let pairs: Array<[string, string]>;
    try {
      pairs = parseHeaderText(headers);
    } catch (err) {
      setError((err as Error).message);
      return;
    }
    const change =
      part === 'request'
        ? { request: { method: first, url, headers: pairs, ...(body !== null ? { content: body } : {}) } }
        : { response: { status_code: Number(first), headers: pairs, ...(body !== null ? { content: body } : {}) } };
    void act('Edit', async () => {
      await edit(flow.id, change);
      onDone();
    });
  };
  return (
    <form class="edit" onSubmit={(e) => (e.preventDefault(), save())}>
      <div class="edit-line">
        {part === 'request' ? (
          <>
            <input
              name="method"
              aria-label="method"
              value={first}
              onInput={(e) => setFirst((e.target as HTMLInputElement).value)}
              size={8}
            />
            <input
              name="url"
              aria-label="url"
              value={url}
              onInput={(e) => setUrl((e.target as HTMLInputElement).value)}
              class="grow"
            />
          </>
        ) : (
          <input
            name="status"
            aria-label="status code"
            value={first}
            onInput={(e) => setFirst((e.target as HTMLInputElement).value)}
            size={5}
          />
        )}
      </div>
      <label>
        Headers (one "name: value" per line)
        <textarea
          name="headers"
          rows={8}
          value={headers}
          onInput={(e) => setHeaders((e.target as HTMLTextAreaElement).value)}
        />
      </label>
      <label>
        Body
        <textarea
          name="body"
          rows={8}
          value={body ?? ''}
          onInput={(e) => setBody((e.target as HTMLTextAreaElement).value)}
        />
      </label>
      {error ? <p class="error">{error}</p> : null}
      <div>
        <button type="submit">Save</button>{' '}
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
