/**
 * The opening handshake (RFC 6455 section 4): the accept key, checks of an upgrade request and
 * of the server's 101 answer, and what the two agreed on (subprotocol, extensions,
 * permessage-deflate parameters). Headers come through {@link HeaderSource}, which the flow
 * model's `Headers` satisfies; {@link rawHeaderSource} adapts raw `[name, value]` pairs.
 */
import { Buffer } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import { WebSocketHandshakeError, WebSocketHandshakeErrorCodes as HC } from './errors.js';
import {
  type DeflateOffer,
  type DeflateParams,
  type Extension,
  PERMESSAGE_DEFLATE,
  acceptDeflateAnswer,
  parseDeflateOffers,
  parseExtensions,
} from './extensions.js';

/** The GUID of RFC 6455 section 1.3, appended to the key before hashing. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The only protocol version (`Sec-WebSocket-Version`) of RFC 6455. */
export const WEBSOCKET_VERSION = '13';

/** Every value of a header field, in order, names matched case-insensitively. */
export interface HeaderSource {
  getAll(name: string): string[];
}

/** A {@link HeaderSource} over raw `[name, value]` pairs (Buffers are read as latin1). */
export function rawHeaderSource(pairs: ReadonlyArray<readonly [Buffer | string, Buffer | string]>): HeaderSource {
  const s = (v: Buffer | string): string => (typeof v === 'string' ? v : v.toString('latin1'));
  return {
    getAll(name: string): string[] {
      const lower = name.toLowerCase();
      return pairs.filter(([n]) => s(n).toLowerCase() === lower).map(([, v]) => s(v).trim());
    },
  };
}

/** `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)). */
export function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + WEBSOCKET_GUID)
    .digest('base64');
}

/** A fresh `Sec-WebSocket-Key`: 16 random bytes, base64. */
export function generateKey(): string {
  return randomBytes(16).toString('base64');
}

/** Comma-separated list elements of all lines of a header, trimmed, empty ones left out. */
function listOf(h: HeaderSource, name: string): string[] {
  return h
    .getAll(name)
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

const hasToken = (h: HeaderSource, name: string, token: string): boolean =>
  listOf(h, name).some((v) => v.toLowerCase() === token);

/**
 * Whether an exchange switched to WebSocket, as mitmproxy decides it: a 101 answer with
 * `Upgrade: websocket` to a request with `Sec-WebSocket-Version: 13`.
 */
export function isWebSocketHandshake(request: HeaderSource, statusCode: number, response: HeaderSource): boolean {
  return (
    statusCode === 101 &&
    hasToken(response, 'upgrade', 'websocket') &&
    listOf(request, 'sec-websocket-version').includes(WEBSOCKET_VERSION)
  );
}

/** What an upgrade request asks for. */
export interface UpgradeRequest {
  key: string;
  /** Subprotocols offered (`Sec-WebSocket-Protocol`), in order. */
  protocols: string[];
  /** Extensions offered (`Sec-WebSocket-Extensions`), in order. */
  extensions: Extension[];
  /** Valid permessage-deflate offers among them. */
  deflateOffers: DeflateOffer[];
}

function requestError(message: string, header?: string): never {
  throw new WebSocketHandshakeError(HC.BAD_REQUEST, message, header);
}

/**
 * Check a client's opening handshake (RFC 6455 section 4.2.1).
 * @throws WebSocketHandshakeError BAD_REQUEST naming the missing or wrong header, BAD_EXTENSION
 * for a malformed `Sec-WebSocket-Extensions`.
 */
export function checkUpgradeRequest(method: string, headers: HeaderSource): UpgradeRequest {
  if (method !== 'GET') requestError(`A WebSocket upgrade must be a GET request, not ${method}.`);
  if (!hasToken(headers, 'upgrade', 'websocket'))
    requestError('The upgrade request lacks "Upgrade: websocket".', 'Upgrade');
  if (!hasToken(headers, 'connection', 'upgrade'))
    requestError('The upgrade request lacks "Connection: Upgrade".', 'Connection');
  const versions = listOf(headers, 'sec-websocket-version');
  if (!versions.includes(WEBSOCKET_VERSION)) {
    requestError(
      `Sec-WebSocket-Version must be 13, got ${versions.length ? versions.join(', ') : 'none'}.`,
      'Sec-WebSocket-Version',
    );
  }
  const keys = headers.getAll('sec-websocket-key');
  const key = keys[0] ?? '';
  if (
    keys.length !== 1 ||
    Buffer.from(key, 'base64').length !== 16 ||
    Buffer.from(key, 'base64').toString('base64') !== key
  ) {
    requestError(
      `Sec-WebSocket-Key must be one base64-encoded 16-byte value, got ${JSON.stringify(keys.join(', '))}.`,
      'Sec-WebSocket-Key',
    );
  }
  const extHeader = headers.getAll('sec-websocket-extensions').join(', ');
  return {
    key,
    protocols: listOf(headers, 'sec-websocket-protocol'),
    extensions: parseExtensions(extHeader),
    deflateOffers: parseDeflateOffers(extHeader).offers,
  };
}

/** What a client and a server agreed on in the handshake. */
export interface Agreement {
  /** The subprotocol the server chose, or null. */
  protocol: string | null;
  /** Every extension of the server's answer. */
  extensions: Extension[];
  /** permessage-deflate parameters, or null if not agreed. */
  deflate: DeflateParams | null;
  /** Names of agreed extensions the codec does not implement (their frames cannot be decoded). */
  unknownExtensions: string[];
}

function responseError(message: string, header?: string): never {
  throw new WebSocketHandshakeError(HC.BAD_RESPONSE, message, header);
}

/**
 * Check the server's answer to an upgrade request the way a client does (RFC 6455 section 4.1,
 * steps 1-6 of the answer checks) and return what was agreed.
 * @throws WebSocketHandshakeError BAD_RESPONSE naming the header at fault, BAD_EXTENSION for a
 * permessage-deflate answer that is malformed or was not offered.
 */
export function checkUpgradeResponse(request: HeaderSource, statusCode: number, response: HeaderSource): Agreement {
  if (statusCode !== 101) responseError(`The server answered the WebSocket upgrade with ${statusCode}, not 101.`);
  if (!hasToken(response, 'upgrade', 'websocket'))
    responseError('The 101 answer lacks "Upgrade: websocket".', 'Upgrade');
  if (!hasToken(response, 'connection', 'upgrade'))
    responseError('The 101 answer lacks "Connection: Upgrade".', 'Connection');
  const versions = listOf(response, 'sec-websocket-version');
  if (versions.length > 0 && !versions.every((v) => v === WEBSOCKET_VERSION)) {
    responseError(
      `The 101 answer names Sec-WebSocket-Version ${versions.join(', ')}, not 13.`,
      'Sec-WebSocket-Version',
    );
  }
  if (!listOf(request, 'sec-websocket-version').includes(WEBSOCKET_VERSION)) {
    responseError('The upgrade request did not ask for Sec-WebSocket-Version 13.', 'Sec-WebSocket-Version');
  }
  const key = request.getAll('sec-websocket-key')[0] ?? '';
  const wrong = wrongAccept(key, response.getAll('sec-websocket-accept'));
  if (wrong !== null) responseError(wrong, 'Sec-WebSocket-Accept');
  return agreement(request, response);
}

/**
 * Why the `Sec-WebSocket-Accept` values of a 101 do not answer `key` (RFC 6455 section 4.1: one
 * value, base64(SHA-1(key + GUID))), or null when they do.
 */
export function wrongAccept(key: string, accept: readonly string[]): string | null {
  const expected = acceptKey(key);
  if (accept.length === 1 && accept[0] === expected) return null;
  return `Sec-WebSocket-Accept is ${JSON.stringify(accept.join(', '))}, expected ${JSON.stringify(expected)} for key ${JSON.stringify(key)}.`;
}

/**
 * `:protocol` of an HTTP/2 extended CONNECT (RFC 8441), as the flow keeps it: a header field of
 * that name, first among the request's fields (the flow model has no pseudo-header fields; a
 * `.mitm` file carries it like any header).
 */
export const PROTOCOL_FIELD = ':protocol';

/** An HTTP/2 extended CONNECT for a WebSocket (RFC 8441 section 4): `CONNECT` with `:protocol websocket`. */
export function isWebSocketTunnel(method: string, request: HeaderSource): boolean {
  return method === 'CONNECT' && request.getAll(PROTOCOL_FIELD)[0]?.toLowerCase() === 'websocket';
}

/**
 * The server's answer to a WebSocket extended CONNECT: any 2xx from an HTTP/2 server (RFC 8441
 * section 5), or the 101 of an HTTP/1.1 server the proxy asked with an Upgrade request (the proxy
 * made that request's key, which the client never saw). Subprotocol and extensions as for a 101.
 */
export function checkTunnelResponse(request: HeaderSource, statusCode: number, response: HeaderSource): Agreement {
  if (statusCode !== 101 && (statusCode < 200 || statusCode > 299))
    responseError(`The server answered the WebSocket extended CONNECT with ${statusCode}.`);
  return agreement(request, response);
}

/** Subprotocol and extensions the server chose among the client's offers. */
function agreement(request: HeaderSource, response: HeaderSource): Agreement {
  const protocols = listOf(response, 'sec-websocket-protocol');
  if (protocols.length > 1)
    responseError(`The server chose several subprotocols: ${protocols.join(', ')}.`, 'Sec-WebSocket-Protocol');
  const protocol = protocols[0] ?? null;
  if (protocol !== null && !listOf(request, 'sec-websocket-protocol').includes(protocol)) {
    responseError(
      `The server chose subprotocol ${JSON.stringify(protocol)}, which the client did not offer.`,
      'Sec-WebSocket-Protocol',
    );
  }
  const offeredHeader = request.getAll('sec-websocket-extensions').join(', ');
  const offered = new Set(parseExtensions(offeredHeader).map((e) => e.name));
  const answerHeader = response.getAll('sec-websocket-extensions').join(', ');
  const extensions = parseExtensions(answerHeader);
  for (const e of extensions) {
    if (!offered.has(e.name))
      responseError(
        `The server agreed to extension ${JSON.stringify(e.name)}, which the client did not offer.`,
        'Sec-WebSocket-Extensions',
      );
  }
  return {
    protocol,
    extensions,
    deflate: acceptDeflateAnswer(answerHeader, parseDeflateOffers(offeredHeader).offers),
    unknownExtensions: extensions.filter((e) => e.name !== PERMESSAGE_DEFLATE).map((e) => e.name),
  };
}
