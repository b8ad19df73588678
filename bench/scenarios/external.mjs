// Benchmarks other parts of the project keep in their own files, run as child processes when
// present: bench/flows.mjs (flow-file read/filter), bench/scripts.mjs (script reload) and
// bench/websocket.mjs (the WebSocket relay's CPU per message), bench/web.mjs (the web UI in
// Chromium), bench/sse.mjs (live event streams). Their
// output is printed as is and kept in the results; they print their own ratios. With --quick
// they get MITMTS_BENCH_QUICK=1 in the environment.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runToEnd } from '../lib/children.mjs';
import { ROOT } from '../lib/proxies.mjs';

function external(file, title) {
  return {
    title,
    async run(env) {
      const path = join(ROOT, 'bench', file);
      if (!existsSync(path)) {
        env.log(`  bench/${file} does not exist (yet); skipped.`);
        return { skipped: true };
      }
      const t0 = performance.now();
      const r = await runToEnd(file, process.execPath, [path], {
        cwd: ROOT,
        timeoutMs: 15 * 60_000,
        env: { ...process.env, ...(env.quick ? { MITMTS_BENCH_QUICK: '1' } : {}) },
      });
      const output = (r.out + (r.err.trim() ? `\n[stderr]\n${r.err}` : '')).trimEnd();
      env.log(output.replace(/^/gm, '  | '));
      if (r.code !== 0)
        throw new Error(`bench/${file} exited with code ${r.code}${r.signal ? ` (signal ${r.signal})` : ''}.`);
      return { seconds: (performance.now() - t0) / 1000, output };
    },
    summary(res) {
      if (res.skipped) return [];
      return [
        {
          scenario: file.replace('.mjs', ''),
          metric: `bench/${file} (see its output for its ratio)`,
          value: 'ran',
          target: '-',
          pass: null,
          extra: '',
        },
      ];
    },
  };
}

export const flows = external('flows.mjs', 'Flow files: read and filter (bench/flows.mjs)');
export const scripts = external('scripts.mjs', 'Scripts: reload (bench/scripts.mjs)');
export const websocket = external('websocket.mjs', 'WebSocket relay: CPU per message (bench/websocket.mjs)');
export const sse = external('sse.mjs', 'Live SSE: first-event latency, recorded bodies (bench/sse.mjs)');
export const web = external('web.mjs', 'Web UI: first paint, live rows, body search (bench/web.mjs)');
