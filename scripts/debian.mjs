// Debian packages the tests and the benchmark need (chromium, certutil, wrk): found on PATH, or
// installed with apt-get when this process may (root, apt-get present). Used by bench/lib/wrk.mjs
// and test/helpers/browser.ts, so that `npm test` and `npm run bench` set up what they use.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The path of `cmd` on PATH, or null. */
export function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir || '.', cmd);
    if (existsSync(p)) return p;
  }
  return null;
}

/** Whether this process can install Debian packages: root, with apt-get. */
export function canInstall() {
  return process.getuid?.() === 0 && which('apt-get') !== null;
}

/**
 * Install Debian `packages` with apt-get (once as is, once more after `apt-get update`).
 * Returns null on success, else why it failed (one line).
 */
export function installDebianPackages(packages, { log = () => undefined, timeoutMs = 300_000 } = {}) {
  if (!canInstall()) return 'installing Debian packages needs root and apt-get';
  log(`installing ${packages.join(', ')} with apt-get...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let why = '';
  for (const update of [false, true]) {
    try {
      if (update) execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env, timeout: timeoutMs });
      // Test files run in parallel workers: a second install waits for the first one's dpkg lock.
      execFileSync('apt-get', ['install', '-y', '-qq', '-o', 'DPkg::Lock::Timeout=300', ...packages], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env,
        timeout: timeoutMs,
      });
      return null;
    } catch (err) {
      why =
        String(err.stderr ?? err.message)
          .trim()
          .split('\n')
          .pop() ?? String(err);
    }
  }
  return `apt-get install ${packages.join(' ')} failed: ${why}`;
}

/**
 * Commands a test needs, from Debian packages: `{ command: package }`. Returns the paths of the
 * commands, installing the packages of missing ones where this process may (root with apt-get,
 * as in CI); elsewhere `{ missing }` says why the test cannot run. A failed install throws.
 */
export function ensureCommands(commands, options = {}) {
  const find = () => Object.fromEntries(Object.keys(commands).map((c) => [c, which(c)]));
  let paths = find();
  const absent = Object.keys(commands).filter((c) => paths[c] === null);
  if (absent.length === 0) return { paths };
  const packages = [...new Set(absent.map((c) => commands[c]))];
  if (!canInstall())
    return {
      missing: `${absent.join(', ')} not installed (Debian ${packages.join(', ')}), and this user cannot install them (needs root and apt-get)`,
    };
  const failed = installDebianPackages(packages, options);
  if (failed !== null) throw new Error(`cannot install ${packages.join(', ')}: ${failed}`);
  paths = find();
  const still = Object.keys(commands).filter((c) => paths[c] === null);
  if (still.length > 0)
    throw new Error(`${still.join(', ')} still missing after apt-get install ${packages.join(' ')}`);
  return { paths };
}
