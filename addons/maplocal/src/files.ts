/**
 * Which files a URL maps to under a map_local directory (mitmproxy's `file_candidates`), and
 * the guard that keeps every lookup inside that directory.
 */
import { realpath, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { pyGroup, url as urls, type PyPattern } from '@mitmts/sdk';

/** Candidate files for one URL, best first, or why there are none. */
export type Candidates =
  | { readonly ok: true; readonly files: readonly string[]; readonly relative: readonly string[] }
  | { readonly ok: false; readonly suffix: string };

const UNSAFE = /[^0-9a-zA-Z\-_.=(),/]/gu;

/** True if `rel` (a decoded URL suffix) could name something outside the directory it is joined to. */
function escapes(rel: string): boolean {
  if (rel.includes('\0')) return true;
  // Both separators: a backslash is a separator on Windows.
  return rel.split(/[/\\]/).some((seg) => seg === '..');
}

/**
 * The files to try for `url` under directory `root`, given the regex match `m`: the part of the
 * URL after the match (query removed) or, if the regex has groups, group 1; percent-decoded;
 * then `<suffix>`, `<suffix>/index.html`, and the same with unusual characters replaced by `_`.
 * An empty suffix means `index.html`. A suffix with a `..` segment or a NUL (also when
 * percent-encoded) is refused: `{ ok: false }`.
 */
export function fileCandidates(root: string, url: string, p: PyPattern, m: RegExpExecArray): Candidates {
  let suffix: string;
  if (p.groups > 0) {
    suffix = pyGroup(p, m, 1) ?? '';
  } else {
    suffix = url.slice(m.index + m[0].length);
    const q = suffix.indexOf('?');
    if (q >= 0) suffix = suffix.slice(0, q);
  }
  suffix = suffix.replace(/^\/+|\/+$/g, '');
  if (!suffix) return { ok: true, files: [join(root, 'index.html')], relative: ['index.html'] };
  const decoded = urls.unquote(suffix);
  const relative = [decoded, `${decoded}/index.html`];
  const escaped = decoded.replace(UNSAFE, '_');
  if (escaped !== decoded) relative.push(escaped, `${escaped}/index.html`);
  if (escapes(decoded) || decoded.startsWith('/')) return { ok: false, suffix: decoded };
  const base = root.endsWith(sep) ? root : root + sep;
  const files: string[] = [];
  for (const rel of relative) {
    const file = resolve(root, rel);
    // Defence in depth: after the checks above this always holds.
    if (!file.startsWith(base)) return { ok: false, suffix: decoded };
    files.push(file);
  }
  return { ok: true, files, relative };
}

/** The result of looking for a file. */
export type Found = { readonly file: string } | { readonly file: null; readonly outside: boolean };

/**
 * The first candidate that is a regular file whose real path (symlinks resolved) lies inside
 * `root`, or null. A candidate that resolves outside (a symlink out of the directory) is never
 * returned; `outside` reports that one was seen.
 */
export async function findFile(root: string, files: readonly string[]): Promise<Found> {
  const base = root.endsWith(sep) ? root : root + sep;
  let outside = false;
  for (const file of files) {
    try {
      if (!(await stat(file)).isFile()) continue;
      const real = await realpath(file);
      if (real === root || real.startsWith(base)) return { file: real };
      outside = true;
    } catch {
      // Missing or unreadable: try the next candidate.
    }
  }
  return { file: null, outside };
}
