import type { Flow } from '@mitmts/sdk';
import { body, cleanRequest, headersToSend } from './message.js';
import { printfBytes, shQuote } from './shell.js';

/**
 * The flow's request as an HTTPie command: `http METHOD URL 'name: value' ...`, the decoded body
 * on standard input (`printf '...' | http ...`, exact bytes; HTTPie sends stdin as it is), or
 * `--ignore-stdin` when there is none (so that it never waits for input in a script).
 */
export function httpieCommand(f: Flow): string {
  const r = cleanRequest(f);
  const data = body(r);
  const args = ['http'];
  if (!data) args.push('--ignore-stdin');
  args.push(r.method, r.prettyUrl);
  for (const [k, v] of headersToSend(r)) args.push(v === '' ? `${k};` : `${k}: ${v}`);
  // HTTPie would label a body from stdin as JSON; an empty `Content-Type:` item sends none.
  if (data && !r.headers.has('content-type')) args.push('Content-Type:');
  const cmd = args.map(shQuote).join(' ');
  return data ? `${printfBytes(data)} | ${cmd}` : cmd;
}
