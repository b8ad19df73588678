// Backslashes in quoted filter arguments, through the real command line, checked against
// Debian's mitmproxy 8.1.1 (its flowfilter, as `mitmdump -nr FILE EXPR` uses it) where it can be
// installed. Inside quotes a backslash escapes the next
// character (only \t \n \r \f are control characters), so `"\d+"` is the regex `d+`, as in
// mitmproxy; the regex \d is written unquoted (`\d+`) or with a doubled backslash (`"\\d+"`).
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { FlowWriter } from '@mitmts/sdk';
import { tflow } from '@mitmts/sdk/testing';
import { ensureTools, PYTHON_MITMPROXY } from '../helpers/tools.js';

const BIN = join(import.meta.dirname, '../../bin/mitmts.js');
const run = promisify(execFile);

const missing = ensureTools(PYTHON_MITMPROXY);
if (missing) console.warn(`the mitmproxy 8.1.1 comparison of quoted filter arguments is skipped: ${missing}`);

// [expression, paths of the flows it matches]
const CASES: Array<[string, string[]]> = [
  ['~b "\\d+"', ['/only_d_here', '/quote']],
  ["~b '\\d'", ['/only_d_here', '/quote']],
  ['~b "\\\\d+"', ['/abc123']],
  ['~b \\d+', ['/abc123']],
  ['~b "\\w\\s"', []],
  ['~b "c\\x31"', []],
  ['~b "\\"quoted\\""', ['/quote']],
];

/** mitmproxy 8.1.1's flowfilter on the file: for each expression, the paths of the flows it matches. */
const PY = `
import json, sys
from mitmproxy import flowfilter, io
with open(sys.argv[1], "rb") as fp:
    flows = list(io.FlowReader(fp).stream())
print(json.dumps([[f.request.path for f in flows if flowfilter.parse(e)(f)] for e in sys.argv[2:]]))
`;

let file = '';
beforeAll(async () => {
  file = join(mkdtempSync(join(tmpdir(), 'mitmts-quoting-')), 'bodies.mitm');
  // Format 17: mitmproxy 8.1.1 reads it too.
  const w = new FlowWriter(file, { format: 17 });
  for (const [path, body] of [
    ['/abc123', 'abc123'],
    ['/only_d_here', 'only d here'],
    ['/quote', 'a "quoted" word'],
    ['/nothing', 'nothing'],
  ]) {
    const f = tflow({ resp: true });
    f.request.path = path!;
    f.request.text = body!;
    w.add(f);
  }
  await w.close();
});

describe('quoted filter arguments keep mitmproxy 8.1.1 backslash rules', () => {
  it.each(CASES)('mitmts flows FILE %s', async (expr, expected) => {
    const { stdout } = await run(process.execPath, [BIN, 'flows', file, expr, '--fields', 'request.path']);
    const got =
      stdout.trim() === ''
        ? []
        : stdout
            .trim()
            .split('\n')
            .map((l) => (JSON.parse(l) as Record<string, string>)['request.path']);
    expect(got).toEqual(expected);
  });

  it.skipIf(missing !== null)('mitmproxy 8.1.1 matches the same flows', { timeout: 60_000 }, async () => {
    const { stdout } = await run('/usr/bin/python3', ['-c', PY, file, ...CASES.map(([expr]) => expr)]);
    const got = JSON.parse(stdout) as string[][];
    expect(CASES.map(([expr], i) => [expr, got[i]])).toEqual(CASES);
  });
});
