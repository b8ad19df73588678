import type { ModeHandler } from '../connection.js';
import type { ProxyMode } from '../modes.js';
import { regularMode } from './regular.js';

/**
 * The first layer of a connection per proxy mode. A new mode (reverse, upstream, socks5,
 * transparent) is a new file here and one entry in this table; modes without an entry are
 * refused when the option is set.
 */
export const MODE_HANDLERS: Readonly<Partial<Record<ProxyMode['type'], ModeHandler>>> = {
  regular: regularMode,
};
