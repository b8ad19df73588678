/**
 * zstd-napi, loaded on first use like better-sqlite3 (see db.ts): a proxy that never opens a
 * store never loads it, and a single-file build (which cannot carry native code) loads it from
 * where the build runs.
 */
import { createRequire } from 'node:module';
import type * as ZstdNapi from 'zstd-napi';
import { StoreError } from './errors.js';

let zstd: typeof ZstdNapi | null = null;

/** The native zstd binding the store compresses records and bodies with. */
export function loadZstd(): typeof ZstdNapi {
  if (zstd) return zstd;
  try {
    zstd = createRequire(import.meta.url)('zstd-napi') as typeof ZstdNapi;
  } catch (err) {
    throw new StoreError(
      'MITMTS_ERR_STORE_ZSTD',
      `The store needs zstd-napi, which could not be loaded (${(err as Error).message.split('\n')[0]}). Install it beside mitmts with its build script allowed: npm install zstd-napi --allow-scripts=zstd-napi.`,
      { cause: err },
    );
  }
  return zstd;
}
