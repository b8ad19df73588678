import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { addon, createProxy, inject, Kernel, LOG, type Logger } from '@mitmts/sdk';
import { withAddons } from '@mitmts/sdk/testing';
import { ErrorCheck } from '@mitmts/addon-errorcheck';

/** Logs the given errors while starting (in configure) or once running. */
function noisy(when: 'configure' | 'running', messages: string[]) {
  @addon({ name: 'noisy' })
  class Noisy {
    constructor(@inject(LOG) readonly log: Logger) {}
    configure(): void {
      if (when === 'configure') messages.forEach((m) => this.log.error(m));
    }
    running(): void {
      if (when === 'running') setTimeout(() => messages.forEach((m) => this.log.error(m)), 10);
    }
  }
  return Noisy;
}

/** The exit code asked for so far, or 'running' (errorcheck decides once, right after start-up). */
function exitState(kernel: { whenExitRequested(): Promise<number> }): Promise<number | 'running'> {
  return Promise.race([kernel.whenExitRequested(), Promise.resolve('running' as const)]);
}

describe('errorcheck', () => {
  it('asks to exit with status 1 when an error was logged during start-up', async () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let tctx;
    try {
      tctx = await withAddons([noisy('configure', ['boom']), ErrorCheck]);
      expect(write).toHaveBeenCalledWith('Error logged during startup, exiting...\n');
    } finally {
      write.mockRestore();
    }
    expect(await exitState(tctx.kernel)).toBe(1);
    expect(tctx.addon<ErrorCheck>('errorcheck').errors).toEqual(['boom']);
  });

  it.each([
    [false, ['one'], 'Error logged during startup, exiting...\n'],
    [false, ['one', 'two'], 'Errors logged during startup, exiting...\n'],
    [true, ['one', 'two'], 'Errors logged during startup:\none\ntwo\n'],
  ] as const)('says so on stderr (repeatErrors=%s, %j)', async (repeat, messages, expected) => {
    const kernel = new Kernel();
    const check = new ErrorCheck(kernel, kernel.log);
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d));
    check.stderr = out;
    check.repeatErrors = repeat;
    kernel.log.warn('a warning is no error');
    messages.forEach((m) => kernel.log.error(m));
    await check.running();
    expect(text).toBe(expected);
    expect(await exitState(kernel)).toBe(1);
  });

  it('does nothing when start-up was clean', async () => {
    const tctx = await withAddons([noisy('configure', []), ErrorCheck]);
    expect(await exitState(tctx.kernel)).toBe('running');
  });

  it('ignores errors logged after start-up', async () => {
    const tctx = await withAddons([noisy('running', ['later']), ErrorCheck]);
    if (!tctx.hasLog('later', 'error'))
      await new Promise<void>((resolve) => tctx.kernel.log.onEntry((e) => e.message === 'later' && resolve()));
    expect(await exitState(tctx.kernel)).toBe('running');
    expect(tctx.addon<ErrorCheck>('errorcheck').errors).toEqual([]);
  });
});

function run(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const dist = join(import.meta.dirname, 'fixtures/dist.mjs');
    const child = spawn(
      process.execPath,
      [dist, '-n', '--set', `confdir=${mkdtempSync(join(tmpdir(), 'mitmts-ec-'))}`],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...env },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      // A clean start keeps running: stop it once it is up.
      if (!env['MITMTS_TEST_FAIL'] && stdout.includes('running\n')) setTimeout(() => child.kill('SIGTERM'), 300);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('errorcheck with createProxy', () => {
  it('makes createProxy reject with the start-up errors', async () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await expect(createProxy({ addons: [noisy('configure', ['bad certificate file']), ErrorCheck] })).rejects.toThrow(
        'The proxy did not start: bad certificate file.',
      );
    } finally {
      write.mockRestore();
    }
  });
});

describe('errorcheck on the command line', () => {
  it('exits 1 after printing the start-up errors, as mitmdump does', async () => {
    const { code, stderr } = await run({ MITMTS_TEST_FAIL: 'cannot load script x.py,second problem' });
    expect(code).toBe(1);
    expect(stderr).toBe(
      '[error] cannot load script x.py\n[error] second problem\nErrors logged during startup, exiting...\n',
    );
  });

  it('keeps running after a clean start', async () => {
    const { code, stdout, stderr } = await run({});
    expect(stdout).toBe('running\n');
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
