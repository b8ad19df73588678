import { spawn } from 'node:child_process';
import { createWriteStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FlowWriter } from '@mitmts/sdk';
import { tflow } from '@mitmts/sdk/testing';
import { describe, expect, it } from 'vitest';
import { MITMTS_BIN, tempDir } from '../helpers/process.js';

/**
 * `mitmts ARGS | head -n 3` in bash: what head printed, what mitmts wrote to stderr, and mitmts's
 * exit status. A mitmts still running 45 s after head has exited is killed (it is in the
 * shell's process group) and reported as `code: null`.
 */
async function pipedIntoHead(args: string): Promise<{ code: number | null; out: string; err: string }> {
  const cmd = `"$NODE" "$BIN" ${args} | head -n 3; echo "mitmts exited: \${PIPESTATUS[0]}" >&2`;
  const shell = spawn('bash', ['-c', cmd], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE: process.execPath, BIN: MITMTS_BIN },
  });
  let out = '';
  let err = '';
  shell.stdout.on('data', (d: Buffer) => (out += d.toString()));
  shell.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => shell.on('close', (code) => resolve(code)));
  let deadline: NodeJS.Timeout | undefined;
  const stuck = new Promise<null>((resolve) => (deadline = setTimeout(() => resolve(null), 45_000)));
  try {
    const code = await Promise.race([exited, stuck]);
    return { code: code === 0 ? Number(/^mitmts exited: (\d+)$/m.exec(err)?.[1]) : null, out, err };
  } finally {
    clearTimeout(deadline);
    if (shell.exitCode === null) process.kill(-shell.pid!, 'SIGKILL');
  }
}

function expectQuietEnd(r: { code: number | null; out: string; err: string }): void {
  expect(r.code, `mitmts did not end cleanly after head exited:\n${r.err}`).toBe(0);
  expect(r.out.split('\n').filter(Boolean)).toHaveLength(3);
  expect(r.err).not.toMatch(/EPIPE|Error|\n\s+at /);
}

// `mitmts ... | head`: once head has read its lines and exited, every write mitmts makes fails
// with EPIPE. It must end quietly with status 0, as a Unix tool does, not print a stack trace
// (to the same broken pipe, without end) or keep running.
describe('output piped into head', () => {
  it('ends the proxy quietly once head has exited', { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const script = join(dir, 'chatty.ts');
    // A log line every millisecond, for as long as the process lives: writes go on after head exits.
    writeFileSync(
      script,
      `import { defineAddon } from '@mitmts/sdk';
export default defineAddon({
  name: 'chatty',
  hooks: {
    running() {
      setInterval(() => this.log.info('chatty line'), 1);
    },
  },
});
`,
    );
    expectQuietEnd(await pipedIntoHead(`--set confdir=${dir} -p 0 -s ${script}`));
  });

  it('ends mitmts flows quietly once head has exited', { timeout: 60_000 }, async () => {
    // Far more JSON lines than a pipe holds, so writes fail while flows still prints.
    const file = join(tempDir(), 'many.mitm');
    const stream = createWriteStream(file);
    const writer = new FlowWriter(stream);
    for (let i = 0; i < 3000; i++) writer.add(tflow({ resp: true }));
    await new Promise((resolve) => stream.end(resolve));
    expectQuietEnd(await pipedIntoHead(`flows ${file}`));
  });
});
