import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MITMTS_BIN, tempDir } from '../helpers/process.js';

// `mitmts ... | head`: once head has read its lines and exited, every write mitmts makes fails
// with EPIPE. It must end quietly with status 0, as a Unix tool does, not print a stack trace
// (to the same broken pipe, without end) or keep running.
describe('output piped into head', () => {
  it('ends mitmts quietly once head has exited', { timeout: 60_000 }, async () => {
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
    const cmd = `"$NODE" "$BIN" --set confdir="$DIR" -p 0 -s "$SCRIPT" | head -n 3; echo "mitmts exited: \${PIPESTATUS[0]}" >&2`;
    // Its own process group, so that a mitmts that does not end is killed with the shell.
    const shell = spawn('bash', ['-c', cmd], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE: process.execPath, BIN: MITMTS_BIN, DIR: dir, SCRIPT: script },
    });
    let out = '';
    let err = '';
    shell.stdout.on('data', (d: Buffer) => (out += d.toString()));
    shell.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => shell.on('close', (code) => resolve(code)));
    let deadline: NodeJS.Timeout | undefined;
    const stuck = new Promise<'stuck'>((resolve) => (deadline = setTimeout(() => resolve('stuck'), 45_000)));
    try {
      const code = await Promise.race([exited, stuck]);
      expect(code, `mitmts did not end after head exited:\n${err}`).toBe(0);
      expect(out.split('\n').filter(Boolean)).toHaveLength(3);
      expect(err).toMatch(/^mitmts exited: 0$/m);
      expect(err).not.toMatch(/EPIPE|Error|\n\s+at /);
    } finally {
      clearTimeout(deadline);
      if (shell.exitCode === null) process.kill(-shell.pid!, 'SIGKILL');
    }
  });
});
