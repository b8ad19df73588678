/**
 * Large bodies as content-addressed files beside the database: `<db>.bodies/ab/<sha256>.zst`,
 * zstd-compressed. Equal bodies are stored once. Files are written to a temporary name and
 * renamed, so a crash never leaves a partial body under its final name.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadZstd } from './zstd.js';
import { StoreError, storeError } from './errors.js';

export class BodyFiles {
  private readonly made = new Set<string>();

  constructor(readonly dir: string) {}

  private pathOf(hash: string): string {
    return join(this.dir, hash.slice(0, 2), `${hash}.zst`);
  }

  /** Store a body; returns its SHA-256 (hex). */
  put(body: Buffer): string {
    const hash = createHash('sha256').update(body).digest('hex');
    const path = this.pathOf(hash);
    const sub = join(this.dir, hash.slice(0, 2));
    try {
      if (!this.made.has(sub)) {
        mkdirSync(sub, { recursive: true });
        this.made.add(sub);
      }
      if (existsSync(path)) return hash;
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, loadZstd().compress(body, { compressionLevel: 1 }));
      renameSync(tmp, path);
    } catch (err) {
      throw storeError(err, path, 'write the body file');
    }
    return hash;
  }

  /** A stored body by its hash. */
  get(hash: string): Buffer {
    const path = this.pathOf(hash);
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch (err) {
      throw new StoreError(
        'MITMTS_ERR_STORE_CORRUPT',
        `The body file ${path} is missing or unreadable (${(err as Error).message}): the flow's body cannot be restored.`,
        { cause: err },
      );
    }
    return loadZstd().decompress(data);
  }
}
