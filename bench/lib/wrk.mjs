// wrk as the load generator for plain HTTP: found on PATH, installed with apt-get when missing
// and possible, else null (the harness falls back to the Node generator).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installDebianPackages, which } from '../../scripts/debian.mjs';
import { runToEnd } from './children.mjs';

/** The wrk binary, installing Debian's `wrk` package if needed and possible. */
export function findWrk({ install = true, log = () => undefined } = {}) {
  const p = which('wrk');
  if (p || !install) return p;
  const failed = installDebianPackages(['wrk'], { log, timeoutMs: 180_000 });
  if (failed === null && which('wrk')) return which('wrk');
  log(
    `wrk is not installed and could not be installed (${failed ?? 'not on PATH after install'}); using the Node load generator.`,
  );
  return null;
}

/**
 * A wrk script that sends absolute-form requests for `http://127.0.0.1:UPSTREAM/` to whatever
 * address wrk connects to (the proxy). No `request` function: wrk then builds the request once
 * and reuses it, as in a plain run.
 */
export function writeProxyScript(dir, upstreamPort) {
  const path = join(dir, `wrk-proxy-${upstreamPort}.lua`);
  writeFileSync(
    path,
    [`wrk.path = "http://127.0.0.1:${upstreamPort}/"`, `wrk.headers["Host"] = "127.0.0.1:${upstreamPort}"`, ''].join(
      '\n',
    ),
  );
  return path;
}

/** The same request in origin form, for the direct run. */
export function writeDirectScript(dir, upstreamPort) {
  const path = join(dir, `wrk-direct-${upstreamPort}.lua`);
  writeFileSync(path, [`wrk.path = "/"`, `wrk.headers["Host"] = "127.0.0.1:${upstreamPort}"`, ''].join('\n'));
  return path;
}

const UNIT = { us: 1e-3, ms: 1, s: 1000, m: 60_000 };

function ms(text) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  return m ? Number(m[1]) * UNIT[m[2]] : null;
}

/** Parse wrk's report (run with --latency). */
export function parseWrk(out) {
  const num = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : null;
  };
  const pct = (p) => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out);
    return m ? ms(m[1]) : null;
  };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const requests = num(/(\d+) requests in ([\d.]+)(m?s)/);
  const dur = /\d+ requests in ([\d.]+)(ms|s|m)/.exec(out);
  return {
    requests,
    seconds: dur ? ms(dur[1] + dur[2]) / 1000 : null,
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    non200: num(/Non-2xx or 3xx responses: (\d+)/) ?? 0,
    errors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    socketErrors: sock ? { connect: +sock[1], read: +sock[2], write: +sock[3], timeout: +sock[4] } : null,
    latencyMs: { p50: pct(50), p90: pct(90), p99: pct(99), max: null },
  };
}

/** Run wrk once: `{ ...parsed, raw }`. Throws with wrk's output if it fails or prints no rate. */
export async function runWrk(bin, { url, script, connections, threads = 1, seconds, timeoutS = 10 }) {
  const args = [
    '-t',
    String(threads),
    '-c',
    String(connections),
    '-d',
    `${seconds}s`,
    '--timeout',
    `${timeoutS}s`,
    '--latency',
    '-s',
    script,
    url,
  ];
  const r = await runToEnd('wrk', bin, args, { timeoutMs: (seconds + 30) * 1000 });
  const parsed = parseWrk(r.out);
  if (r.code !== 0 || parsed.rps === null) {
    throw new Error(`wrk failed (exit ${r.code}): ${bin} ${args.join(' ')}\n${r.out}${r.err}`);
  }
  return { ...parsed, raw: r.out };
}
