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
export function runCommand(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<RunResult> {
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

/**
 * A generated project's `npm test`: type-check, then its vitest suite. The suite gets most of
 * the caller's budget (the examples' suite starts a proxy per file: on a loaded machine it
 * outlasted the default 120 s and was cut off mid-output).
 */
export async function projectTest(dir: string, timeoutMs = 280_000): Promise<RunResult> {
  const tsc = await run([join(REPO, 'node_modules/typescript/bin/tsc'), '-p', '.'], dir);
  if (tsc.code !== 0) return tsc;
  return run([join(REPO, 'node_modules/vitest/vitest.mjs'), 'run'], dir, timeoutMs);
}
