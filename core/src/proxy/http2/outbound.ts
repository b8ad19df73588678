/**
 * Checks of what the codec's user asks to send, before any byte is encoded (a field rejected
 * halfway through a block would leave the HPACK tables of both sides out of step).
 * @internal
 */
import { latin1 } from '../http1/chars.js';
import type { OutboundHeaders } from '../http1/serialize.js';
import { Http2Error, Http2ErrorCodes } from './errors.js';

/** Name bytes we send: no controls, space, DEL or ':' (upper case is lower-cased on the way out). */
const NAME_OK = Uint8Array.from({ length: 256 }, (_, c) => (c > 0x20 && c !== 0x7f && c !== 0x3a ? 1 : 0));
const LOWER = (c: number): number => (c >= 0x41 && c <= 0x5a ? c + 0x20 : c);

function is(name: Uint8Array, lit: string): boolean {
  if (name.length !== lit.length) return false;
  for (let i = 0; i < name.length; i++) if (LOWER(name[i]!) !== lit.charCodeAt(i)) return false;
  return true;
}

/** A field that RFC 9113 section 8.2.2 forbids in HTTP/2 (`te` is allowed with `trailers`). */
function connectionSpecific(name: Uint8Array, value: Uint8Array): boolean {
  switch (name.length) {
    case 2:
      return is(name, 'te') && !is(value, 'trailers');
    case 7:
      return is(name, 'upgrade');
    case 10:
      return is(name, 'connection') || is(name, 'keep-alive');
    case 16:
      return is(name, 'proxy-connection');
    case 17:
      return is(name, 'transfer-encoding');
    default:
      return false;
  }
}

function bad(message: string, header?: string): Http2Error {
  return new Http2Error(Http2ErrorCodes.BAD_OUTBOUND, message, 0, 0, header);
}

/**
 * Throws a BAD_OUTBOUND {@link Http2Error} for fields that cannot go out on HTTP/2: an empty name,
 * a name with controls, space or ':', a CR, LF or NUL in a value, a connection-specific field
 * (strip those when translating from HTTP/1).
 */
export function checkOutboundFields(fields: OutboundHeaders, what: string): void {
  for (let i = 0; i < fields.length; i++) {
    const [name, value] = fields[i]!;
    if (name.length === 0) throw bad(`${what}: field ${i} has an empty name`);
    for (let j = 0; j < name.length; j++) {
      if (!NAME_OK[name[j]!]) {
        const shown = latin1(name, 0, name.length);
        throw bad(
          `${what}: field name ${JSON.stringify(shown)} has byte 0x${name[j]!.toString(16).padStart(2, '0')} (pseudo-headers are set by the codec)`,
          shown,
        );
      }
    }
    for (let j = 0; j < value.length; j++) {
      const c = value[j]!;
      if (c === 0 || c === 0x0a || c === 0x0d) {
        const shown = latin1(name, 0, name.length);
        throw bad(`${what}: the value of ${shown} has a CR, LF or NUL byte`, shown);
      }
    }
    if (connectionSpecific(name, value)) {
      const shown = latin1(name, 0, name.length);
      throw bad(
        `${what}: ${shown} is connection-specific and not allowed in HTTP/2 (drop it when translating from HTTP/1)`,
        shown,
      );
    }
  }
}

/** Throws BAD_OUTBOUND if a pseudo-header value has a CR, LF, NUL, or (`token`) any control or space. */
export function checkPseudo(name: string, value: string, token: boolean): void {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d || c > 0xff || (token && (c <= 0x20 || c === 0x7f))) {
      throw bad(`${name} ${JSON.stringify(value)} has a byte that cannot be sent`, name);
    }
  }
}
