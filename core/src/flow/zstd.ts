import { createRequire } from 'node:module';
import zlib from 'node:zlib';

/** One-shot zstd compression, whichever implementation provides it. */
export interface Zstd {
  compress(buf: Buffer): Buffer;
  decompress(buf: Buffer): Buffer;
}

let impl: Zstd | null = null;

/**
 * zstd, loaded on first use: Node's own where it exists (22.15+), else the native `zstd-napi`
 * package (an optional dependency). A proxy that never meets a zstd body never loads it, and an
 * installation without the native build (no prebuilt binary and no compiler, install scripts
 * denied, or a single-file build, which cannot carry native code) still starts: only zstd
 * bodies fail, with this message.
 * @throws Error saying how to get zstd when neither is available.
 */
export function zstd(): Zstd {
  if (impl) return impl;
  const z = zlib as unknown as { zstdCompressSync?: (b: Buffer) => Buffer; zstdDecompressSync?: (b: Buffer) => Buffer };
  if (typeof z.zstdCompressSync === 'function' && typeof z.zstdDecompressSync === 'function') {
    const { zstdCompressSync, zstdDecompressSync } = z;
    impl = { compress: (b) => zstdCompressSync(b), decompress: (b) => zstdDecompressSync(b) };
    return impl;
  }
  try {
    impl = createRequire(import.meta.url)('zstd-napi') as Zstd;
  } catch (err) {
    throw new Error(
      `zstd is not available: use Node 22.15 or later, or install the native zstd-napi package with its build script allowed (npm install zstd-napi --allow-scripts=zstd-napi) (${(err as Error).message.split('\n')[0]})`,
    );
  }
  return impl;
}
