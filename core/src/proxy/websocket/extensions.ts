/**
 * `Sec-WebSocket-Extensions` (RFC 6455 section 9.1) and the permessage-deflate parameters
 * (RFC 7692 section 7.1): parse a client's offers and a server's answer, and check the answer
 * against the offers.
 *
 * ```
 * extension-list = 1#extension
 * extension      = token *( ";" token [ "=" ( token | quoted-string ) ] )
 * ```
 */
import { WebSocketHandshakeError, WebSocketHandshakeErrorCodes as HC } from './errors.js';

/** One extension of a `Sec-WebSocket-Extensions` list, parameters in order (`null` = no value). */
export interface Extension {
  /** Name, lower-cased (extension tokens compare case-insensitively). */
  name: string;
  params: Array<[name: string, value: string | null]>;
}

const TOKEN_CHARS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function fail(message: string): never {
  throw new WebSocketHandshakeError(HC.BAD_EXTENSION, message, 'Sec-WebSocket-Extensions');
}

/**
 * Parse a `Sec-WebSocket-Extensions` value (several header lines joined with `, `).
 * @throws WebSocketHandshakeError BAD_EXTENSION naming the position of a syntax error.
 */
export function parseExtensions(value: string): Extension[] {
  const out: Extension[] = [];
  let i = 0;
  const n = value.length;
  const ows = (): void => {
    while (i < n && (value[i] === ' ' || value[i] === '\t')) i++;
  };
  const token = (what: string): string => {
    const start = i;
    while (i < n && !' \t,;="'.includes(value[i]!)) i++;
    const t = value.slice(start, i);
    if (!TOKEN_CHARS.test(t))
      fail(`Sec-WebSocket-Extensions: expected ${what} at character ${start + 1} of ${JSON.stringify(value)}`);
    return t;
  };
  const quoted = (): string => {
    const start = i++;
    let s = '';
    while (i < n && value[i] !== '"') {
      if (value[i] === '\\' && i + 1 < n) i++;
      s += value[i++];
    }
    if (i >= n)
      fail(
        `Sec-WebSocket-Extensions: unterminated quoted string at character ${start + 1} of ${JSON.stringify(value)}`,
      );
    i++;
    // RFC 6455 section 9.1: a quoted value must still be a token once unquoted.
    if (!TOKEN_CHARS.test(s)) fail(`Sec-WebSocket-Extensions: quoted value "${s}" is not a token`);
    return s;
  };
  for (;;) {
    ows();
    if (i < n && value[i] === ',') {
      i++; // empty list elements are allowed (RFC 9110 section 5.6.1)
      continue;
    }
    if (i >= n) break;
    const ext: Extension = { name: token('an extension name').toLowerCase(), params: [] };
    ows();
    while (i < n && value[i] === ';') {
      i++;
      ows();
      const name = token('a parameter name').toLowerCase();
      ows();
      let v: string | null = null;
      if (i < n && value[i] === '=') {
        i++;
        ows();
        v = value[i] === '"' ? quoted() : token('a parameter value');
        ows();
      }
      ext.params.push([name, v]);
    }
    out.push(ext);
    if (i < n && value[i] !== ',')
      fail(
        `Sec-WebSocket-Extensions: unexpected ${JSON.stringify(value[i])} at character ${i + 1} of ${JSON.stringify(value)}`,
      );
  }
  return out;
}

/** Serialize extensions back to a header value (`name; a; b=1, other`). */
export function formatExtensions(list: readonly Extension[]): string {
  return list.map((e) => [e.name, ...e.params.map(([k, v]) => (v === null ? k : `${k}=${v}`))].join('; ')).join(', ');
}

/** The extension name of RFC 7692. */
export const PERMESSAGE_DEFLATE = 'permessage-deflate';

/** One permessage-deflate offer of a client (RFC 7692 section 7.1). */
export interface DeflateOffer {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** Largest window the client accepts from the server (8-15), null if not limited. */
  serverMaxWindowBits: number | null;
  /** `true`: the client supports the parameter without a value; a number: its limit; null: absent. */
  clientMaxWindowBits: number | true | null;
}

/** What both peers agreed on for one connection (from the server's answer). */
export interface DeflateParams {
  /** The server resets its compression context after each message (server-to-client direction). */
  serverNoContextTakeover: boolean;
  /** The client resets its compression context after each message (client-to-server direction). */
  clientNoContextTakeover: boolean;
  /** LZ77 window of the server's compressor, 8-15 (15 when not agreed). */
  serverMaxWindowBits: number;
  /** LZ77 window of the client's compressor, 8-15 (15 when not agreed). */
  clientMaxWindowBits: number;
}

function windowBits(name: string, v: string | null, where: string): number {
  if (v === null || !/^\d+$/.test(v) || Number(v) < 8 || Number(v) > 15) {
    fail(`${where}: ${name} must be a number from 8 to 15, got ${v === null ? 'no value' : JSON.stringify(v)}`);
  }
  return Number(v);
}

function deflateParamsOf(ext: Extension, where: string, answer: boolean): DeflateOffer {
  const o: DeflateOffer = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: null,
    clientMaxWindowBits: null,
  };
  const seen = new Set<string>();
  for (const [k, v] of ext.params) {
    if (seen.has(k)) fail(`${where}: parameter ${k} appears twice`);
    seen.add(k);
    if (k === 'server_no_context_takeover' || k === 'client_no_context_takeover') {
      if (v !== null) fail(`${where}: ${k} takes no value`);
      if (k === 'server_no_context_takeover') o.serverNoContextTakeover = true;
      else o.clientNoContextTakeover = true;
    } else if (k === 'server_max_window_bits') o.serverMaxWindowBits = windowBits(k, v, where);
    else if (k === 'client_max_window_bits')
      o.clientMaxWindowBits = v === null && !answer ? true : windowBits(k, v, where);
    else fail(`${where}: unknown parameter ${k}`);
  }
  return o;
}

/**
 * The valid permessage-deflate offers of a client's `Sec-WebSocket-Extensions`, in preference
 * order. Offers with unknown or malformed parameters are left out (a server declines them,
 * RFC 7692 section 5.1); `invalid` says why each was.
 */
export function parseDeflateOffers(header: string): { offers: DeflateOffer[]; invalid: string[] } {
  const offers: DeflateOffer[] = [];
  const invalid: string[] = [];
  for (const ext of parseExtensions(header)) {
    if (ext.name !== PERMESSAGE_DEFLATE) continue;
    try {
      offers.push(deflateParamsOf(ext, 'permessage-deflate offer', false));
    } catch (e) {
      invalid.push((e as Error).message);
    }
  }
  return { offers, invalid };
}

/**
 * The parameters a server agreed to in its `Sec-WebSocket-Extensions` answer, or null if it
 * did not accept permessage-deflate. With the client's `offers`, the answer is also checked
 * against them as a client would (RFC 7692 section 7.1.1.2, 7.1.2.2): `client_max_window_bits`
 * only if offered, `server_max_window_bits` not above an offered limit, and some offer that the
 * answer satisfies.
 * @throws WebSocketHandshakeError BAD_EXTENSION when the answer is malformed, names
 * permessage-deflate twice, or fits no offer.
 */
export function acceptDeflateAnswer(header: string, offers?: readonly DeflateOffer[]): DeflateParams | null {
  const exts = parseExtensions(header).filter((e) => e.name === PERMESSAGE_DEFLATE);
  if (exts.length === 0) return null;
  if (exts.length > 1) fail('permessage-deflate answer: the server accepted permessage-deflate more than once');
  const a = deflateParamsOf(exts[0]!, 'permessage-deflate answer', true);
  const answered = typeof a.clientMaxWindowBits === 'number' ? a.clientMaxWindowBits : null;
  let clientLimit: number | null = null;
  if (offers) {
    if (offers.length === 0) fail('permessage-deflate answer: the client did not offer permessage-deflate');
    const fit = offers.find(
      (o) =>
        (answered === null || o.clientMaxWindowBits !== null) &&
        (o.serverMaxWindowBits === null ||
          (a.serverMaxWindowBits !== null && a.serverMaxWindowBits <= o.serverMaxWindowBits)) &&
        (!o.serverNoContextTakeover || a.serverNoContextTakeover) &&
        (typeof o.clientMaxWindowBits !== 'number' || answered === null || answered <= o.clientMaxWindowBits),
    );
    if (!fit) fail(`permessage-deflate answer: ${JSON.stringify(header)} fits none of the client's offers`);
    // A client that offered a limit keeps to it even when the answer does not repeat it.
    if (typeof fit.clientMaxWindowBits === 'number') clientLimit = fit.clientMaxWindowBits;
  }
  return {
    serverNoContextTakeover: a.serverNoContextTakeover,
    clientNoContextTakeover: a.clientNoContextTakeover,
    serverMaxWindowBits: a.serverMaxWindowBits ?? 15,
    clientMaxWindowBits: answered ?? clientLimit ?? 15,
  };
}
