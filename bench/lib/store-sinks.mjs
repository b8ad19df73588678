// Store benchmark, part 4: what the opt-in sinks cost per flow on the proxy's thread. N flows go
// through each sink's hooks in this process (the SDK's test harness, no sockets for the flows);
// the receivers (a minimal ClickHouse HTTP endpoint, an OTLP/HTTP endpoint) run in a child
// process so that their work is not counted. CPU is this process's main thread only, read from
// /proc: the sinks' own work on that thread (rows, spans, the clients' requests) is included.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const RECEIVER = `
const http = require('node:http');
let rows = 0;
const server = http.createServer((req, res) => {
  let n = 0;
  req.on('data', (c) => { for (let i = c.indexOf(10); i >= 0; i = c.indexOf(10, i + 1)) n++; });
  req.on('end', () => {
    const otlp = req.url.startsWith('/v1/traces');
    if (req.url.includes('INSERT')) rows += n;
    res.writeHead(200, { 'content-type': otlp ? 'application/json' : 'text/plain' });
    res.end(otlp ? '{}' : '');
  });
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', () => process.send({ rows }));
`;

/** CPU seconds of this process's main thread so far. */
function mainThreadCpu() {
  const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const x = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(x[11]) + Number(x[12])) / 100;
}

function startReceiver() {
  const child = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve({ child, port: m.port }));
    child.once('exit', (code) => reject(new Error(`the sink benchmark's receiver exited (${code})`)));
  });
}

/** Flows through one sink, flushed every 1,000; main-thread CPU per flow. */
async function measure(addon, options, n, flush) {
  const { withAddons, tflow } = await import('@mitmts/sdk/testing');
  const tctx = await withAddons([addon], options);
  const flows = Array.from({ length: n }, () => tflow({ resp: true }));
  const c0 = mainThreadCpu();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await tctx.trigger('response', flows[i]);
    if (i % 1000 === 999) await flush(tctx, i + 1);
  }
  await flush(tctx, n);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = mainThreadCpu() - c0;
  await tctx.done();
  return { flows: n, seconds, cpuUsPerFlow: (cpu * 1e6) / n };
}

/** CPU per flow of the ClickHouse and OTel sinks (main thread). */
export async function sinkCosts(n) {
  const { child, port } = await startReceiver();
  try {
    const { ClickHouseSink } = await import('@mitmts/addon-sink-clickhouse');
    const { OTelSink } = await import('@mitmts/addon-sink-otel');
    const clickhouse = await measure(
      ClickHouseSink,
      {
        clickhouse_url: `http://127.0.0.1:${port}`,
        clickhouse_create: false,
        clickhouse_batch: 1000,
        clickhouse_flush_ms: 10,
      },
      n,
      async (tctx, sent) => {
        while (!new RegExp(`: ${sent} rows in`).test(await tctx.call('clickhouse.status')))
          await new Promise((r) => setTimeout(r, 5));
      },
    );
    const otel = await measure(OTelSink, { otel_endpoint: `http://127.0.0.1:${port}/v1/traces` }, n, (tctx) =>
      tctx.call('otel.flush'),
    );
    child.send('rows');
    const rows = await new Promise((r) => child.once('message', (m) => r(m.rows)));
    return { clickhouse: { ...clickhouse, rowsReceived: rows }, otel };
  } finally {
    child.kill();
  }
}
