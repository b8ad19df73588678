// Headless Chromium (Debian's package) for browser tests: found, or installed by the tests
// themselves (scripts/debian.mjs), with a profile whose NSS database trusts a given CA, as a
// user's does after installing mitmproxy's CA certificate once.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium as playwright, type Browser } from 'playwright-core';
import { CHROMIUM_ARGS } from '../../scripts/chromium-args.mjs';
import { canInstall, installDebianPackages, which } from '../../scripts/debian.mjs';

export { CHROMIUM_ARGS };

/**
 * Chromium and certutil: their paths, or why they are missing. Where packages can be installed
 * (root with apt-get, as in CI) a failed install is an error, never a skipped test.
 */
export function ensureChromium(): { chromium: string; certutil: string } | { missing: string } {
  const found = (): { chromium: string; certutil: string } | null => {
    const chromium = which('chromium');
    const certutil = which('certutil');
    return chromium && certutil ? { chromium, certutil } : null;
  };
  const have = found();
  if (have) return have;
  if (!canInstall())
    return {
      missing: 'chromium and certutil are not installed, and this user cannot install them (needs root and apt-get)',
    };
  const failed = installDebianPackages(['chromium', 'libnss3-tools']);
  if (failed !== null) throw new Error(`Cannot run the browser tests: ${failed}`);
  const now = found();
  if (!now)
    throw new Error('Cannot run the browser tests: chromium or certutil is still missing after apt-get install.');
  return now;
}

/** A browser profile: a HOME with an NSS database (trusting `caCertPath` if given) and a user-data dir. */
export function browserProfile(certutil: string, caCertPath?: string): string {
  const home = mkdtempSync(join(tmpdir(), 'mitmts-chromium-'));
  const db = `sql:${join(home, '.pki', 'nssdb')}`;
  mkdirSync(join(home, '.pki', 'nssdb'), { recursive: true });
  execFileSync(certutil, ['-d', db, '-N', '--empty-password']);
  if (caCertPath) execFileSync(certutil, ['-d', db, '-A', '-t', 'C,,', '-n', 'mitmts CA', '-i', caCertPath]);
  return home;
}

/**
 * Headless Chromium (playwright-core) whose every request, loopback included, goes through the
 * proxy at `proxyUrl`, with a fresh profile trusting `caCertPath` (the proxy's CA) if given.
 */
export function launchChromium(
  tools: { chromium: string; certutil: string },
  proxyUrl: string,
  caCertPath?: string,
): Promise<Browser> {
  return playwright.launch({
    executablePath: tools.chromium,
    args: [...CHROMIUM_ARGS, `--proxy-server=${proxyUrl}`, '--proxy-bypass-list=<-loopback>'],
    env: { ...process.env, HOME: browserProfile(tools.certutil, caCertPath) },
  });
}

/**
 * Load `url` in headless Chromium through the proxy at `proxyUrl` and return the DOM after load
 * (scripts run). Loopback addresses go through the proxy too (`<-loopback>`).
 */
export function dumpDom(
  chromium: string,
  home: string,
  proxyUrl: string,
  url: string,
): Promise<{ dom: string; stderr: string }> {
  const args = [
    '--headless',
    ...CHROMIUM_ARGS,
    `--user-data-dir=${join(home, 'profile')}`,
    `--proxy-server=${proxyUrl}`,
    '--proxy-bypass-list=<-loopback>',
    '--dump-dom',
    url,
  ];
  return new Promise((resolve, reject) => {
    execFile(
      chromium,
      args,
      { env: { ...process.env, HOME: home }, encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err && (err as { killed?: boolean }).killed)
          reject(new Error(`chromium timed out loading ${url}:\n${stderr.slice(-2000)}`));
        else resolve({ dom: stdout, stderr });
      },
    );
  });
}
