// (g) WebSocket echo through the proxy: small text messages from 8 connections, 64 in flight on
// each, to an echo server (bench/lib/ws-peers.mjs), direct, through mitmts and through mitmdump
// (absolute-form upgrade, regular mode, no addon hooks). Echoes/s, and the proxy's CPU time per
// relayed message (each echo is two: client to server and back), user + kernel from /proc: the
// figure that moves least when the machine is shared. Plain, then permessage-deflate (no
// context takeover: every message is inflated for the flow and passed on as it came).
import { join } from 'node:path';
import { Child, runToEnd } from '../lib/children.mjs';
import { fmt, pct, ratio, rounds, table, times } from '../lib/format.mjs';
import { perUnit, withCpu } from '../lib/sys.mjs';

export const title = '(g) WebSocket echo: small messages through the proxy';

const PEERS = 'bench/lib/ws-peers.mjs';
const CONNECTIONS = 8;
const WINDOW = 64;

async function echoServer(root) {
  const child = new Child('ws-echo', process.execPath, [join(root, PEERS), 'server'], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const msg = await new Promise((resolve, reject) => {
    child.proc.once('message', resolve);
    child.exited.then(() => reject(new Error(`The WebSocket echo server did not start.\n  ${child.describe()}`)));
  });
  return { child, pid: child.pid, port: msg.port };
}

async function generator(env, cfg) {
  const r = await runToEnd('ws-load', process.execPath, [join(env.root, PEERS), 'client', JSON.stringify(cfg)], {
    cwd: env.root,
    timeoutMs: (cfg.warmupMs + cfg.durationMs) * 3 + 60_000,
  });
  let res = null;
  try {
    res = JSON.parse(r.out.trim().split('\n').pop());
  } catch {
    // reported below
  }
  if (!res || res.failed || r.code !== 0)
    throw new Error(
      `WebSocket load generator failed: ${res?.failed ?? `exit ${r.code}`}${r.err.trim() ? `\n  ${r.err.trim()}` : ''}`,
    );
  return res;
}

export async function run(env) {
  const server = await echoServer(env.root);
  env.log(
    `  ${CONNECTIONS} connections x ${WINDOW} messages in flight, 47-byte masked text; ${env.warmupS} s warm-up, ${env.durationS} s measured; echo server pid ${server.pid}`,
  );
  const res = { connections: CONNECTIONS, window: WINDOW, seconds: env.durationS };
  try {
    for (const deflate of [false, true]) {
      const measure = async (label, proxy, pids) => {
        const cfg = {
          proxy: proxy?.port ?? null,
          target: { host: '127.0.0.1', port: server.port },
          connections: CONNECTIONS,
          window: WINDOW,
          warmupMs: env.warmupS * 1000,
          durationMs: env.durationS * 1000,
          deflate,
        };
        const backgroundBusy = await env.background(label);
        const m = await withCpu(pids, () => generator(env, cfg));
        // Every echo crossed the proxy twice; CPU over the whole run (warm-up included) per message relayed.
        const relayed = 2 * m.result.totalEchoes;
        return {
          rate: m.result.rate,
          echoes: m.result.echoes,
          cpu: { proxy: proxy ? m.cpu[proxy.pid] : null, server: m.cpu[server.pid], system: m.cpu.system },
          cpuUsPerMessage: proxy ? perUnit(m.cpuSplit[proxy.pid], relayed) : null,
          backgroundBusy,
        };
      };
      const round = async () => {
        const r = { direct: await measure('direct', null, [server.pid]) };
        for (const t of targets(env, deflate)) {
          const p = await env.startProxy(t.kind, { sets: t.sets });
          try {
            r[t.label] = await measure(t.label, p, [p.pid, server.pid]);
          } finally {
            await env.stopProxy(p, 'g');
          }
        }
        return r;
      };
      const key = deflate ? 'deflate' : 'plain';
      res[key] = await env.repeated(round, (r) => r.rate);
      report(env, key, res[key]);
    }
  } finally {
    await server.child.stop(2000);
  }
  return res;
}

/**
 * The proxies measured: mitmts as it starts (every message kept in flow.websocket.messages, as
 * mitmproxy keeps them), mitmts keeping the last 1,000 per flow (`websocket_messages_keep`: the
 * relay's cost without a heap that grows by every message), and mitmdump.
 */
function targets(env, deflate) {
  const out = [{ label: 'mitmts', kind: 'mitmts', sets: [] }];
  if (!deflate) out.push({ label: KEEP, kind: 'mitmts', sets: ['websocket_messages_keep=1000'] });
  if (env.proxies.includes('mitmdump')) out.push({ label: 'mitmdump', kind: 'mitmdump', sets: [] });
  return out;
}
const KEEP = 'mitmts keep 1000';

const usMsg = (x) =>
  x && Number.isFinite(x.total) ? `${x.total.toFixed(2)} µs (${x.user.toFixed(2)}+${x.sys.toFixed(2)})` : '-';

function report(env, key, r) {
  env.log(`  ${key === 'plain' ? 'no extension' : 'permessage-deflate (no context takeover)'}:`);
  const rows = [
    [
      '',
      'echoes/s',
      'vs direct',
      'proxy CPU',
      'echo server CPU',
      'machine busy',
      'proxy CPU/message (user+sys)',
      'rounds',
    ],
  ];
  for (const k of ['direct', 'mitmts', KEEP, 'mitmdump']) {
    const x = r[k];
    if (!x) continue;
    rows.push([
      k,
      fmt(x.rate),
      pct(ratio(x.rate, r.direct.rate)),
      pct(x.cpu.proxy),
      pct(x.cpu.server),
      pct(x.cpu.system),
      usMsg(x.cpuUsPerMessage),
      rounds(x),
    ]);
  }
  env.log(table(rows));
  const mt = r.mitmts?.cpuUsPerMessage?.total;
  const md = r.mitmdump?.cpuUsPerMessage?.total;
  if (mt && md) env.log(`  CPU per message: mitmdump ${times(md / mt)} mitmts's`);
}

export function summary(res) {
  const rows = [];
  for (const key of ['plain', 'deflate']) {
    const r = res[key];
    if (!r) continue;
    const mt = r.mitmts?.cpuUsPerMessage?.total ?? null;
    const md = r.mitmdump?.cpuUsPerMessage?.total ?? null;
    const label = key === 'plain' ? '' : ', permessage-deflate';
    rows.push({
      scenario: 'g',
      metric: `WebSocket proxy CPU per unmodified message${label}`,
      value: mt === null ? '-' : `${mt.toFixed(2)} µs`,
      target: key === 'plain' ? '<= 2 µs' : '-',
      pass: key === 'plain' && mt !== null ? mt <= 2 : null,
      extra: `all messages kept, as mitmproxy; echoes/s ${pct(ratio(r.mitmts?.rate, r.direct?.rate))} of direct (${fmt(r.mitmts?.rate)} vs ${fmt(r.direct?.rate)})`,
    });
    const kept = r[KEEP]?.cpuUsPerMessage?.total ?? null;
    if (kept !== null) {
      rows.push({
        scenario: 'g',
        metric: 'WebSocket proxy CPU per unmodified message, keeping 1,000',
        value: `${kept.toFixed(2)} µs`,
        target: '<= 2 µs',
        pass: kept <= 2,
        extra: `websocket_messages_keep=1000; echoes/s ${pct(ratio(r[KEEP].rate, r.direct?.rate))} of direct`,
      });
    }
    if (md !== null && mt !== null) {
      rows.push({
        scenario: 'g',
        metric: `WebSocket CPU per message, mitmdump/mitmts${label}`,
        value: times(md / mt),
        target: key === 'plain' ? '>= 10x' : '-',
        pass: key === 'plain' ? md / mt >= 10 : null,
        extra: `mitmdump ${md.toFixed(2)} µs, echoes/s ${pct(ratio(r.mitmdump?.rate, r.direct?.rate))} of direct`,
      });
    }
  }
  return rows;
}
