// Starting the proxies under test as separate processes, as users run them:
//   mitmts:   node [the bin's shebang flags] bin/mitmts.js -p PORT --listen-host 127.0.0.1 --confdir DIR -q [--set ...] [-s hook.ts]
//   mitmdump: mitmdump -p PORT --listen-host 127.0.0.1 --set confdir=DIR -q [--set ...] [-s hook.py]
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { mitmtsNodeFlags } from '../../scripts/node-flags.mjs';
import { Child } from './children.mjs';
import { freePort, waitForPort } from './sys.mjs';

export const ROOT = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');
const MITMTS_BIN = join(ROOT, 'bin/mitmts.js');
const HOOK_TS = join(ROOT, 'bench/addons/hook.ts');
const HOOK_PY = join(ROOT, 'bench/addons/hook.py');
const HOOK_BUILD = join(ROOT, 'bench/addons/hook-build.mjs');
export const MITMDUMP = '/usr/bin/mitmdump';

/** How mitmts gets the response hook: `-s hook.ts` while that works, else the custom build. */
let mitmtsHookVia = null;

export function mitmdumpAvailable() {
  return existsSync(MITMDUMP) ? MITMDUMP : null;
}

/**
 * Start one proxy and wait until it accepts TCP connections.
 * @param {'mitmts' | 'mitmdump'} kind
 * @param {object} o dataDir (scratch root), sets (option=value strings), hook (load the response
 *   hook), quiet (default true), profileDir (mitmts only: run under --cpu-prof), tag (names the
 *   profile), freshConfdir (use a new, empty confdir: the CA gets created at start-up)
 * @returns {Promise<{ kind, child, pid, port, caPath, confdir, spawnedAt, listeningMs, hookVia, profilePath }>}
 */
export async function startProxy(kind, o) {
  if (kind === 'mitmts' && o.hook && mitmtsHookVia === null) {
    try {
      const p = await startOnce(kind, { ...o, hookVia: 'script' });
      mitmtsHookVia = 'script';
      return p;
    } catch (err) {
      if (!/unknown option:? scripts/i.test(err.message)) throw err;
      mitmtsHookVia = 'custom-build';
      process.stderr.write(
        `[bench] mitmts -s is not available yet (${oneLine(err.message)}); loading the hook through a custom build (bench/addons/hook-build.mjs) instead.\n`,
      );
    }
  }
  return startOnce(kind, { ...o, hookVia: o.hook ? (kind === 'mitmts' ? mitmtsHookVia : 'script') : null });
}

function oneLine(msg) {
  const m = /mitmts: ([^\n]+)/.exec(msg);
  return m ? m[1] : msg.split('\n')[0];
}

let freshCount = 0;

async function startOnce(kind, o) {
  const confdir = o.freshConfdir
    ? join(o.dataDir, `confdir-fresh-${kind}-${process.pid}-${freshCount++}`)
    : join(o.dataDir, `confdir-${kind}`);
  mkdirSync(confdir, { recursive: true });
  const sets = o.sets ?? [];
  const quiet = o.quiet ?? true;
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    let cmd;
    let args;
    let profilePath = null;
    if (kind === 'mitmts') {
      // the V8 flags the installed command starts with (its shebang line; `node bin/...` skips it)
      const node = mitmtsNodeFlags();
      if (o.profileDir) {
        mkdirSync(o.profileDir, { recursive: true });
        const name = `mitmts-${o.tag ?? 'run'}-${Date.now()}.cpuprofile`;
        profilePath = join(o.profileDir, name);
        node.push('--cpu-prof', `--cpu-prof-dir=${o.profileDir}`, `--cpu-prof-name=${name}`);
      }
      const entry = o.hookVia === 'custom-build' ? HOOK_BUILD : MITMTS_BIN;
      cmd = process.execPath;
      args = [...node, entry, '-p', String(port), '--listen-host', '127.0.0.1', '--confdir', confdir];
      if (quiet) args.push('-q');
      for (const s of sets) args.push('--set', s);
      if (o.hookVia === 'script') args.push('-s', HOOK_TS);
    } else {
      cmd = MITMDUMP;
      args = ['-p', String(port), '--listen-host', '127.0.0.1', '--set', `confdir=${confdir}`];
      if (quiet) args.push('-q');
      for (const s of sets) args.push('--set', s);
      if (o.hook) args.push('-s', HOOK_PY);
    }
    const child = new Child(kind, cmd, args, { cwd: ROOT });
    const spawnedAt = performance.now();
    let listeningLogAt = null;
    child.onOutput((s) => {
      if (listeningLogAt === null && /listening at/i.test(s)) listeningLogAt = performance.now();
    });
    try {
      const at = await waitForPort(port, { child, timeoutMs: o.freshConfdir ? 60_000 : 30_000 });
      return {
        kind,
        child,
        pid: child.pid,
        port,
        confdir,
        caPath: join(confdir, 'mitmproxy-ca-cert.pem'),
        spawnedAt,
        listeningMs: at - spawnedAt,
        listeningLogMs: () => (listeningLogAt === null ? null : listeningLogAt - spawnedAt),
        hookVia: o.hookVia ?? null,
        profilePath,
        stop: () => child.stop(10_000),
      };
    } catch (err) {
      await child.stop(2000);
      const raced = /address already in use|EADDRINUSE|Errno 98/i.test(child.out + child.err);
      if (raced && attempt < 3) continue;
      throw err;
    }
  }
}
