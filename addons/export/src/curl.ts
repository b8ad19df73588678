import type { Flow } from '@mitmts/sdk';
import { body, cleanRequest, headersToSend } from './message.js';
import { isPlainText, printfBytes, shQuote } from './shell.js';

/** Bodies larger than this go through standard input: one command-line argument is limited (128 KiB on Linux). */
export const INLINE_BODY_LIMIT = 64 * 1024;

export interface CurlOptions {
  /** Connect to the address the flow's server had (`--resolve`), as `export_preserve_original_ip` asks. */
  readonly preserveIp?: boolean;
}

/**
 * The flow's request as a curl command that sends the same bytes: every header (an empty value
 * as `-H 'name;'`), the decoded body exactly (`--data-raw 'text'`, or for binary, control
 * characters and large bodies `printf '...' | curl --data-binary @-`), the method.
 */
export function curlCommand(f: Flow, o: CurlOptions = {}): string {
  const r = cleanRequest(f);
  const args = ['curl'];
  const addr = f.serverConn.peername?.[0];
  if (o.preserveIp && addr && r.prettyHost !== addr) args.push('--resolve', `${r.prettyHost}:${r.port}:[${addr}]`);
  const data = body(r);
  for (const [k, v] of headersToSend(r)) {
    if (k.toLowerCase() === 'accept-encoding') args.push('--compressed');
    else args.push('-H', v === '' ? `${k};` : `${k}: ${v}`);
  }
  // curl would add Content-Type: application/x-www-form-urlencoded to a body without one.
  if (data && !r.headers.has('content-type')) args.push('-H', 'Content-Type:');
  if (r.method === 'HEAD') args.push('--head');
  else if (r.method !== 'GET' || data) {
    // Some servers want a length for a bodiless POST (nginx); curl sends none by itself.
    if (!data && r.method !== 'GET') args.push('-H', 'content-length: 0');
    args.push('-X', r.method);
  }
  args.push(r.prettyUrl);
  let cmd = args.map(shQuote).join(' ');
  if (!data) return cmd;
  if (data.length <= INLINE_BODY_LIMIT && isPlainText(data))
    return `${cmd} --data-raw ${shQuote(data.toString('utf8'))}`;
  cmd = `${printfBytes(data)} | ${cmd} --data-binary @-`;
  return cmd;
}
