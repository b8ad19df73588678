import { spawn } from 'node:child_process';
import { mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REPO = join(import.meta.dirname, '../..');
export const BIN = join(REPO, 'bin/mitmts.js');

/** A fresh directory outside the repository. */
export function tempDir(prefix: string): string {
  return realpathSync(mkdtempSync(join(tmpdir(), prefix)));
}

export interface RunResult {
  readonly code: number | null;
  /** stdout and stderr, interleaved. */
  readonly out: string;
}

/** Run a command to completion (killed after `timeoutMs`); resolves with its exit code and output. */
export function runCommand(
  cmd: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = 120_000,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** Run a Node program to completion; resolves with its exit code and output. */
export function run(args: readonly string[], cwd: string, timeoutMs = 120_000): Promise<RunResult> {
  return runCommand(process.execPath, args, cwd, { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' }, timeoutMs);
}
