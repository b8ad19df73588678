import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mitmts, tempDir } from '../helpers/process.js';

// A confdir that cannot be created used to spin Node's recursive mkdir forever (100% CPU, and
// SIGTERM waited for it). Each case must end at once with one line naming the cause and the fix.
describe('mitmts with a confdir that cannot be created', () => {
  const cases: Array<[string, () => string, RegExp]> = [
    [
      'under /proc',
      () => '/proc/mitmts-confdir-test/sub',
      /Cannot use \/proc\/mitmts-confdir-test\/sub as the confdir: cannot create \/proc\/mitmts-confdir-test: the file system does not allow new directories there/,
    ],
    [
      'below a file',
      () => {
        const file = join(tempDir(), 'a-file');
        writeFileSync(file, 'x');
        return join(file, 'confdir');
      },
      /Cannot use \S+\/a-file\/confdir as the confdir: \S+\/a-file is a file, not a directory/,
    ],
  ];

  it.each(cases)('%s: one error line, exit 1', async (_name, confdir, message) => {
    const child = mitmts(['--set', `confdir=${confdir()}`, '-p', '0']);
    const { code } = await child.exited;
    expect(code).toBe(1);
    expect(child.err).toMatch(message);
    expect(child.err).toMatch(
      /Choose a writable directory with the option confdir \(on the command line: --set confdir=DIR\)\./,
    );
    expect(child.err).not.toMatch(/\n\s+at /); // no stack trace
    expect(child.out).not.toMatch(/listening/);
  });
});
