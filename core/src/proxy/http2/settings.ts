/**
 * SETTINGS (RFC 9113 section 6.5): the options a connection turns into its own settings and
 * limits, the entries it announces, and the checks and effects of the peer's.
 * @internal
 */
import {
  DEFAULT_HEADER_TABLE_SIZE,
  DEFAULT_WINDOW,
  ErrorCode,
  MAX_MAX_FRAME_SIZE,
  MAX_WINDOW,
  MIN_MAX_FRAME_SIZE,
  SettingId,
} from './constants.js';
import { Http2Error, Http2ErrorCodes } from './errors.js';
import { DEFAULT_FLOOD_LIMITS } from './flood.js';
import type { FloodLimits, Http2Options, Http2Role, Http2Settings } from './types.js';

/** Settings before the peer announces any (RFC 9113 section 6.5.2). */
export function defaultSettings(): Http2Settings {
  return {
    headerTableSize: DEFAULT_HEADER_TABLE_SIZE,
    enablePush: true,
    maxConcurrentStreams: Infinity,
    initialWindowSize: DEFAULT_WINDOW,
    maxFrameSize: MIN_MAX_FRAME_SIZE,
    maxHeaderListSize: Infinity,
    enableConnectProtocol: false,
  };
}

function integer(name: string, v: number | undefined, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < min || v > max)
    throw new RangeError(`HTTP/2 option ${name} must be an integer from ${min} to ${max}, got ${v}`);
  return v;
}

/** {@link Http2Options} with defaults applied and ranges checked. */
export interface ResolvedOptions {
  local: Http2Settings;
  validate: boolean;
  huffman: boolean;
  connectionWindowSize: number;
  maxHeaderBlockSize: number;
  provisionalMaxConcurrentStreams: number;
  floods: FloodLimits;
  now: () => number;
}

/** Applies the defaults; throws a RangeError naming an option out of range. */
export function resolveOptions(role: Http2Role, o: Http2Options): ResolvedOptions {
  const maxHeaderListSize = integer('maxHeaderListSize', o.maxHeaderListSize, 65536, 1024, 0x7fffffff);
  return {
    local: {
      headerTableSize: integer('headerTableSize', o.headerTableSize, DEFAULT_HEADER_TABLE_SIZE, 0, 0x7fffffff),
      enablePush: false,
      maxConcurrentStreams: integer('maxConcurrentStreams', o.maxConcurrentStreams, 100, 1, 0x7fffffff),
      initialWindowSize: integer('initialWindowSize', o.initialWindowSize, 256 * 1024, 1, MAX_WINDOW),
      maxFrameSize: integer('maxFrameSize', o.maxFrameSize, MIN_MAX_FRAME_SIZE, MIN_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE),
      maxHeaderListSize,
      enableConnectProtocol: role === 'server' && (o.enableConnectProtocol ?? false),
    },
    validate: o.validateHeaders ?? true,
    huffman: o.huffman ?? true,
    connectionWindowSize: integer(
      'connectionWindowSize',
      o.connectionWindowSize,
      1024 * 1024,
      DEFAULT_WINDOW,
      MAX_WINDOW,
    ),
    maxHeaderBlockSize: integer('maxHeaderBlockSize', o.maxHeaderBlockSize, 2 * maxHeaderListSize, 1024, 0x7fffffff),
    provisionalMaxConcurrentStreams: integer(
      'provisionalMaxConcurrentStreams',
      o.provisionalMaxConcurrentStreams,
      100,
      1,
      0x7fffffff,
    ),
    floods: { ...DEFAULT_FLOOD_LIMITS, ...o.floods },
    now: o.now ?? Date.now,
  };
}

/** The entries of our first SETTINGS frame (defaults left out, push off for clients). */
export function ourSettingsEntries(role: Http2Role, ls: Http2Settings): Array<[number, number]> {
  const entries: Array<[number, number]> = [];
  if (role === 'client') entries.push([SettingId.ENABLE_PUSH, 0]);
  entries.push([SettingId.MAX_CONCURRENT_STREAMS, ls.maxConcurrentStreams]);
  if (ls.headerTableSize !== DEFAULT_HEADER_TABLE_SIZE) entries.push([SettingId.HEADER_TABLE_SIZE, ls.headerTableSize]);
  if (ls.initialWindowSize !== DEFAULT_WINDOW) entries.push([SettingId.INITIAL_WINDOW_SIZE, ls.initialWindowSize]);
  if (ls.maxFrameSize !== MIN_MAX_FRAME_SIZE) entries.push([SettingId.MAX_FRAME_SIZE, ls.maxFrameSize]);
  entries.push([SettingId.MAX_HEADER_LIST_SIZE, ls.maxHeaderListSize]);
  if (ls.enableConnectProtocol) entries.push([SettingId.ENABLE_CONNECT_PROTOCOL, 1]);
  return entries;
}

/**
 * Applies the peer's SETTINGS entries to `rs` (unknown ones are ignored). Returns the change of
 * the stream send windows (SETTINGS_INITIAL_WINDOW_SIZE) and whether the header table size was
 * announced. Throws a connection {@link Http2Error} for a value RFC 9113 forbids.
 */
export function applyPeerSettings(
  rs: Http2Settings,
  entries: ReadonlyArray<readonly [number, number]>,
  role: Http2Role,
): { windowDelta: number; tableSize: boolean } {
  let windowDelta = 0;
  let tableSize = false;
  for (const [key, v] of entries) {
    switch (key) {
      case SettingId.HEADER_TABLE_SIZE:
        rs.headerTableSize = v;
        tableSize = true;
        break;
      case SettingId.ENABLE_PUSH:
        if (v > 1) throw new Http2Error(Http2ErrorCodes.PROTOCOL, `SETTINGS_ENABLE_PUSH = ${v} (must be 0 or 1)`);
        if (v === 1 && role === 'client')
          throw new Http2Error(Http2ErrorCodes.PROTOCOL, 'a server sent SETTINGS_ENABLE_PUSH = 1');
        rs.enablePush = v === 1;
        break;
      case SettingId.MAX_CONCURRENT_STREAMS:
        rs.maxConcurrentStreams = v;
        break;
      case SettingId.INITIAL_WINDOW_SIZE:
        if (v > MAX_WINDOW)
          throw new Http2Error(
            Http2ErrorCodes.FLOW_CONTROL,
            `SETTINGS_INITIAL_WINDOW_SIZE = ${v} (over 2^31-1)`,
            ErrorCode.FLOW_CONTROL_ERROR,
          );
        windowDelta += v - rs.initialWindowSize;
        rs.initialWindowSize = v;
        break;
      case SettingId.MAX_FRAME_SIZE:
        if (v < MIN_MAX_FRAME_SIZE || v > MAX_MAX_FRAME_SIZE)
          throw new Http2Error(Http2ErrorCodes.PROTOCOL, `SETTINGS_MAX_FRAME_SIZE = ${v} (must be 16384 to 16777215)`);
        rs.maxFrameSize = v;
        break;
      case SettingId.MAX_HEADER_LIST_SIZE:
        rs.maxHeaderListSize = v;
        break;
      case SettingId.ENABLE_CONNECT_PROTOCOL:
        if (v > 1 || (v === 0 && rs.enableConnectProtocol)) {
          throw new Http2Error(
            Http2ErrorCodes.PROTOCOL,
            `SETTINGS_ENABLE_CONNECT_PROTOCOL = ${v} (must be 0 or 1, and cannot go back to 0)`,
          );
        }
        rs.enableConnectProtocol = v === 1;
        break;
      default:
      // unknown settings are ignored (RFC 9113 section 6.5.2)
    }
  }
  return { windowDelta, tableSize };
}
