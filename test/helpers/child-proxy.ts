// mitmts as users run it (`node bin/mitmts.js` with the V8 flags of the installed command's
// shebang, scripts/node-flags.mjs), in a child process, for tests that measure the
// proxy's own memory (VmRSS, VmHWM from /proc) apart from the test's.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mitmtsNodeFlags } from '../../scripts/node-flags.mjs';

const BIN = join(import.meta.dirname, '../../bin/mitmts.js');
const FIXTURE_CA = join(import.meta.dirname, '../fixtures/mitmproxy-ca');

export interface ChildProxy {
  readonly port: number;
  readonly pid: number;
  /** The CA certificate clients must trust (the fixture CA). */
  readonly caCertPath: string;
  /** Resident and peak resident memory now, in bytes. */
  memory(): { rss: number; hwm: number };
  /** Everything it printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/** Start `bin/mitmts.js` on an ephemeral port with the fixture CA and `--set` options. */
export async function childProxy(sets: string[] = []): Promise<ChildProxy> {
  const confdir = mkdtempSync(join(tmpdir(), 'mitmts-child-'));
  cpSync(FIXTURE_CA, confdir, { recursive: true });
  const args = [
    ...mitmtsNodeFlags(),
    BIN,
    '-p',
    '0',
    '--listen-host',
    '127.0.0.1',
    '--set',
    `confdir=${confdir}`,
    '--flow-detail',
    '0',
    ...sets.flatMap((s) => ['--set', s]),
  ];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (out += d));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /listening at [^\s]*:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`mitmts exited (code ${code}) before listening:\n${out}`)));
  });
  return {
    port,
    pid: child.pid!,
    caCertPath: join(confdir, 'mitmproxy-ca-cert.pem'),
    memory: () => {
      const s = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)![1]) * 1024;
      return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
    },
    output: () => out,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
