import type { Flow } from '@mitmts/sdk';
import { body, cleanRequest, headersToSend } from './message.js';
import { utf8Text } from './shell.js';

/** Headers fetch() refuses or sets itself (the Fetch standard's forbidden request headers among them). */
const NOT_FOR_FETCH = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'expect',
  'te',
  'trailer',
  'proxy-connection',
]);

/**
 * The flow's request as a JavaScript `fetch()` call (browsers, Node 18+, Deno, Bun), like the
 * browsers' "Copy as fetch": headers as an object (as a list of pairs when a name repeats), a
 * text body as a string, a binary body decoded from base64 byte for byte.
 */
export function fetchCommand(f: Flow): string {
  const r = cleanRequest(f);
  const headers = headersToSend(r).filter(([k]) => !NOT_FOR_FETCH.has(k.toLowerCase()));
  const names = headers.map(([k]) => k.toLowerCase());
  const repeated = new Set(names).size !== names.length;
  const init: string[] = [`  "method": ${JSON.stringify(r.method)}`];
  if (headers.length > 0) {
    const entries = headers.map(([k, v]) =>
      repeated ? `    [${JSON.stringify(k)}, ${JSON.stringify(v)}]` : `    ${JSON.stringify(k)}: ${JSON.stringify(v)}`,
    );
    init.push(repeated ? `  "headers": [\n${entries.join(',\n')}\n  ]` : `  "headers": {\n${entries.join(',\n')}\n  }`);
  }
  const data = body(r);
  if (data) {
    const text = utf8Text(data);
    init.push(
      `  "body": ${text !== null ? JSON.stringify(text) : `Uint8Array.from(atob(${JSON.stringify(data.toString('base64'))}), (c) => c.charCodeAt(0))`}`,
    );
  }
  return `fetch(${JSON.stringify(r.prettyUrl)}, {\n${init.join(',\n')}\n});`;
}
