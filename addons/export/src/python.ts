import type { Flow } from '@mitmts/sdk';
import { body, cleanRequest, headersToSend } from './message.js';
import { utf8Text } from './shell.js';

/** Headers requests sets itself from the URL and the body. */
const SET_BY_REQUESTS = new Set(['host', 'transfer-encoding', 'connection']);

/** A Python bytes literal of exactly these bytes. */
export function pyBytes(data: Buffer): string {
  let out = 'b"';
  for (const b of data) {
    if (b === 0x22) out += '\\"';
    else if (b === 0x5c) out += '\\\\';
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b === 0x09) out += '\\t';
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return `${out}"`;
}

/**
 * The flow's request as a Python script using `requests`: `requests.request(method, url,
 * headers=..., data=...)`, a text body as a string encoded to UTF-8, a binary body as a bytes
 * literal. A header name that repeats is sent once with the values joined by `, ` (a dict holds
 * one value per name).
 */
export function pythonRequestsCommand(f: Flow): string {
  const r = cleanRequest(f);
  const merged = new Map<string, [string, string[]]>();
  for (const [k, v] of headersToSend(r)) {
    if (SET_BY_REQUESTS.has(k.toLowerCase())) continue;
    const e = merged.get(k.toLowerCase());
    if (e) e[1].push(v);
    else merged.set(k.toLowerCase(), [k, [v]]);
  }
  const lines = [
    'import requests',
    '',
    'response = requests.request(',
    `    ${JSON.stringify(r.method)},`,
    `    ${JSON.stringify(r.prettyUrl)},`,
  ];
  if (merged.size > 0) {
    lines.push('    headers={');
    for (const [k, vs] of merged.values())
      lines.push(
        `        ${JSON.stringify(k)}: ${JSON.stringify(vs.join(k.toLowerCase() === 'cookie' ? '; ' : ', '))},`,
      );
    lines.push('    },');
  }
  const data = body(r);
  if (data) {
    const text = utf8Text(data);
    lines.push(`    data=${text !== null ? `${JSON.stringify(text)}.encode()` : pyBytes(data)},`);
  }
  lines.push(')', 'print(response.text)', '');
  return lines.join('\n');
}
