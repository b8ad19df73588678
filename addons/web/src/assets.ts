/**
 * The page's static files, built by `build-ui.mjs` into `dist/ui-assets.js` (so the addon, and
 * any single-file build that contains it, carries its page: no CDN, no files beside it).
 */
import { createHash } from 'node:crypto';

export interface Asset {
  readonly type: string;
  readonly body: Buffer;
  readonly etag: string;
}

export interface Assets {
  /** The page (`index.html`), or null when the UI was not built. */
  readonly index: Buffer | null;
  /** Files under `/static/`, by name. */
  readonly files: ReadonlyMap<string, Asset>;
}

export async function loadAssets(): Promise<Assets> {
  let files: Record<string, { type: string; text: string }>;
  try {
    ({ FILES: files } = await import('./ui-assets.js'));
  } catch {
    return { index: null, files: new Map() };
  }
  const out = new Map<string, Asset>();
  for (const [name, f] of Object.entries(files)) {
    const body = Buffer.from(f.text, 'utf8');
    out.set(name, {
      type: f.type,
      body,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`,
    });
  }
  return { index: out.get('index.html')?.body ?? null, files: out };
}
