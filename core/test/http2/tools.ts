/**
 * Real peers for the interop tests: curl, nghttp, nghttpd (Debian's curl, nghttp2-client and
 * nghttp2-server, installed by the tests where they may), certificates from our own CA, and the
 * port a child process listens on (nghttpd binds port 0 and does not print it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type tls from 'node:tls';
import { execFileSync } from 'node:child_process';
import { canInstall, ensureCommands, installDebianPackages } from '../../../scripts/debian.mjs';
import { CertStore } from '../../src/certs/index.js';

/** The peers' paths, or why they are missing (then the interop tests skip and say so). */
export function ensurePeers(): { paths: Record<string, string> } | { missing: string } {
  return ensureCommands({ curl: 'curl', nghttp: 'nghttp2-client', nghttpd: 'nghttp2-server' });
}

/**
 * Debian's Python with the `h2` module (python3-h2), for a client that sends what well-behaved
 * clients refuse to (request smuggling attempts). `/usr/bin/python3`: the Debian modules are
 * for it, not for a pyenv python on PATH.
 */
export function ensurePythonH2(): { python: string } | { missing: string } {
  const python = '/usr/bin/python3';
  const has = (): boolean => {
    try {
      execFileSync(python, ['-c', 'import h2'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (has()) return { python };
  if (!canInstall())
    return { missing: 'python3-h2 is not installed, and this user cannot install it (needs root and apt-get)' };
  const failed = installDebianPackages(['python3', 'python3-h2']);
  if (failed !== null) throw new Error(`cannot install python3-h2: ${failed}`);
  if (!has()) throw new Error('python3-h2 is still missing after apt-get install');
  return { python };
}

/** A scratch directory with a CA (our CertStore) and a leaf for localhost / 127.0.0.1. */
export async function testCerts(): Promise<{
  dir: string;
  caCertPath: string;
  keyPath: string;
  certPath: string;
  secureContext: tls.SecureContext;
  cleanup: () => void;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'mitmts-h2-'));
  const store = await CertStore.fromConfdir(dir);
  const leaf = store.getCert('localhost', ['localhost', '127.0.0.1']);
  const keyPath = join(dir, 'leaf-key.pem');
  const certPath = join(dir, 'leaf-cert.pem');
  writeFileSync(keyPath, leaf.keyPem);
  writeFileSync(certPath, [leaf.certPem, ...leaf.chainPem].join('\n'));
  return {
    dir,
    caCertPath: store.paths.caCertPem,
    keyPath,
    certPath,
    secureContext: store.secureContext(leaf),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Inodes of the sockets a process holds open. */
function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** The TCP port `child` listens on (read from /proc once it binds). */
export async function listeningPort(child: ChildProcess, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${child.spawnfile} exited (code ${child.exitCode}) before listening`);
    const inodes = socketInodes(child.pid!);
    for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A' && inodes.has(f[9]!)) return parseInt(f[1]!.split(':')[1]!, 16);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${child.spawnfile} did not listen within ${timeoutMs} ms`);
}

/** Starts nghttpd on 127.0.0.1, port 0, serving `docroot`; resolves with its port. */
export async function nghttpd(
  nghttpdPath: string,
  docroot: string,
  certs: { keyPath: string; certPath: string },
  extra: string[] = [],
) {
  const child = spawn(nghttpdPath, ['-a', '127.0.0.1', '-d', docroot, ...extra, '0', certs.keyPath, certs.certPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  try {
    const port = await listeningPort(child);
    return { port, stop: () => child.kill('SIGKILL'), stderr: () => err };
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}: ${err}`);
  }
}

/** Runs a command to its end; resolves with exit code, stdout and stderr (never rejects on a code). */
export function run(
  cmd: string,
  args: string[],
  input?: Buffer,
): Promise<{ code: number | null; out: Buffer; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out: Buffer.concat(out), err }));
    if (input) child.stdin!.end(input);
  });
}
