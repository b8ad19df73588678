// The Node/V8 flags the installed `mitmts` command starts with: those on the first line of
// packages/mitmts/bin/mitmts.js (`#!/usr/bin/env -S node FLAGS`). `node bin/mitmts.js` does not
// read a shebang, so the benchmarks and the tests that measure a child mitmts put these on its
// command line themselves, to measure the proxy as the installed command runs.
import { readFileSync } from 'node:fs';

const BIN = new URL('../packages/mitmts/bin/mitmts.js', import.meta.url);

/** The flags between `node` and the script on the mitmts bin's shebang line (none: `[]`). */
export function mitmtsNodeFlags() {
  const first = readFileSync(BIN, 'utf8').split('\n', 1)[0];
  const m = /^#!\S*env(?:\s+-S)?\s+node((?:\s+--\S+)*)\s*$/.exec(first);
  if (!m) throw new Error(`Unexpected first line in ${BIN.pathname}: ${first}`);
  return m[1].split(/\s+/).filter(Boolean);
}
