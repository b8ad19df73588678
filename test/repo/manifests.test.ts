import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mitmtsNodeFlags } from '../../scripts/node-flags.mjs';

const ROOT = join(import.meta.dirname, '../..');

/**
 * Keys that appear twice in one object of a JSON text, as `path.key` (JSON.parse keeps the last
 * one silently: a second "optionalDependencies" block once dropped zstd-napi from @mitmts/core).
 */
function duplicateKeys(text: string): string[] {
  const found: string[] = [];
  const stack: Array<{ keys: Set<string> | null; path: string; key: string | null }> = [];
  const str = /"(?:[^"\\]|\\.)*"/y;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      str.lastIndex = i;
      const token = str.exec(text)![0];
      i += token.length - 1;
      const top = stack.at(-1);
      let j = i + 1;
      while (/\s/.test(text[j] ?? '')) j++;
      if (top?.keys && text[j] === ':') {
        const key = JSON.parse(token) as string;
        if (top.keys.has(key)) found.push(`${top.path}${key}`);
        top.keys.add(key);
        top.key = key;
      }
    } else if (c === '{' || c === '[') {
      const top = stack.at(-1);
      const path = top ? `${top.path}${top.key ?? '[]'}.` : '';
      stack.push({ keys: c === '{' ? new Set() : null, path, key: null });
    } else if (c === '}' || c === ']') stack.pop();
  }
  return found;
}

describe('package manifests', () => {
  it('finds a duplicate key', () => {
    expect(duplicateKeys('{"a": {"x": 1, "x": 2}, "b": [{"y": 1}, {"y": 2}], "c": "\\"c\\": 1"}')).toEqual(['a.x']);
    expect(duplicateKeys('{"o": {}, "o": {}}')).toEqual(['o']);
  });

  it('no package.json in the repository has a key twice (JSON.parse would keep only the last)', () => {
    const files = execFileSync('git', ['ls-files', '-z', '*package.json'], { cwd: ROOT, encoding: 'utf8' })
      .split('\0')
      .filter(Boolean);
    expect(files.length).toBeGreaterThan(30);
    expect(
      files.map((f) => [f, duplicateKeys(readFileSync(join(ROOT, f), 'utf8'))]).filter(([, d]) => d!.length > 0),
    ).toEqual([]);
  });

  it('npm start runs node with the flags of the installed command (its shebang line)', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
    expect(pkg.scripts.start).toBe(`npm run build && node ${[...mitmtsNodeFlags(), 'bin/mitmts.js'].join(' ')}`);
  });
});
