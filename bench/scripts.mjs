// Script hot-reload benchmark (not a test): reload latency from file write to the new addon
// answering hooks (median over 20 saves) and heap growth over 200 reloads.
// Run after building: npx tsc -b && node bench/scripts.mjs
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { ScriptLoader } from '../addons/script/dist/index.js';
import { tflow, withAddons } from '../sdk/dist/testing.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const SAVES = 20;
const RELOADS = 200;
const WARMUP = 20;

// A realistic script: decorators, injection, an option, a relative import, and ~0.5 MB of
// module-level data per version, so a version that is never freed shows up in the heap.
const source = (n) => `
import { addon, hook, inject, option, LOG, type HTTPFlow, type Logger } from '@mitmts/sdk';
import { label } from './lib/label';
const TABLE = Array.from({ length: 20000 }, (_, i) => 'entry-' + i + '-${n}');
@addon({ name: 'bench' })
export class Bench {
  @option({ type: 'str', default: 'x', help: 'A value.' }) bench_value!: string;
  constructor(@inject(LOG) readonly log: Logger) {}
  @hook('request') request(flow: HTTPFlow): void {
    flow.request.headers.set('x-version', label('${n}', TABLE.length));
  }
}
export default Bench;
`;

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'mitmts-bench-scripts-')));
const file = join(dir, 'bench.ts');
mkdirSync(join(dir, 'lib'));
writeFileSync(join(dir, 'lib/label.ts'), 'export const label = (n: string, k: number): string => n + ":" + k;');
writeFileSync(file, source(0));

const tctx = await withAddons([ScriptLoader], { scripts: [file] });
const loader = tctx.addon('script');
let version = 0;

function answer() {
  const f = tflow();
  const r = tctx.kernel.trigger('request', f);
  if (r) throw new Error('the bench hook is synchronous');
  return f.request.headers.get('x-version');
}

/** Save version n, resolve with ms from the write until a hook returns the new version. */
function save(n) {
  return new Promise((resolve, reject) => {
    const want = `${n}:20000`;
    const off = loader.onEvent((e) => {
      if (e.type === 'failed') {
        off();
        reject(new Error(e.error));
      }
    });
    const t0 = performance.now();
    writeFileSync(file, source(n));
    const poll = () => {
      if (answer() === want) {
        off();
        resolve(performance.now() - t0);
      } else setTimeout(poll, 1);
    };
    poll();
  });
}

const latencies = [];
for (let i = 0; i < SAVES; i++) {
  latencies.push(await save(++version));
  await new Promise((r) => setTimeout(r, 50));
}
latencies.sort((a, b) => a - b);
const median = (latencies[SAVES / 2 - 1] + latencies[SAVES / 2]) / 2;

for (let i = 0; i < WARMUP; i++) await save(++version);
gc();
gc();
const before = process.memoryUsage();
for (let i = 0; i < RELOADS; i++) await save(++version);
await new Promise((r) => setTimeout(r, 100));
gc();
gc();
const after = process.memoryUsage();
const mib = (b) => (b / 1048576).toFixed(1);

console.log(
  `script reload latency (write -> new addon answers hooks), median of ${SAVES}: ${median.toFixed(1)} ms (min ${latencies[0].toFixed(1)}, max ${latencies[SAVES - 1].toFixed(1)})`,
);
console.log(
  `script memory after ${RELOADS} reloads: heap ${after.heapUsed - before.heapUsed >= 0 ? '+' : ''}${mib(after.heapUsed - before.heapUsed)} MiB (${mib(before.heapUsed)} -> ${mib(after.heapUsed)}), rss ${after.rss - before.rss >= 0 ? '+' : ''}${mib(after.rss - before.rss)} MiB`,
);
await tctx.done();
rmSync(dir, { recursive: true, force: true });
