// Store benchmark, part 3: a database of N flows written straight through the store's writer
// (StoreDatabase.writeRecords; the proxy is not involved), then queries: `mitmts flows` as users
// run it, and the query interface (windows, counts, body search) in process.
//
// The flows come from 2,000 templates (200 hosts, two of them with "example" in the name at 1%
// each; statuses 200/404/301/500/304; GET/POST/PUT; JSON, HTML, JS and PNG responses). Each
// template's record is encoded once; every flow is a copy with its own id patched in. One
// template in 2,000 has "needle-7f3a" in its response body (the body search's target).
// The database is kept in .bench-data/store-cache/ and reused while the generator is unchanged.
// The database and its records file (FILE.records) go together. Written as a bulk load: the secondary indexes are dropped first and built once at the end
// (reopening the store for writing creates the indexes it lacks), which is how an import of a
// large capture should write too; batches of 5,000 flows per transaction.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fmt, mib, table } from './format.mjs';
import { ROOT } from './proxies.mjs';

// 4: the records in the records file beside the database (store layout 2).
const GENERATOR_VERSION = 4;
const TEMPLATES = 2000;

function pick(i, table) {
  let x = (i * 2654435761) % 1000;
  for (const [value, share] of table) {
    if (x < share) return value;
    x -= share;
  }
  return table[0][0];
}

async function templates() {
  const { tflow, encodeFlow, flowRow, Headers } = await import('@mitmts/core');
  const out = [];
  for (let j = 0; j < TEMPLATES; j++) {
    const f = tflow({ resp: true });
    const h = j % 100;
    f.request.host = h === 0 ? 'example.com' : h === 1 ? 'api.example.org' : `svc${j % 200}.internal.net`;
    f.request.method = pick(j, [
      ['GET', 800],
      ['POST', 150],
      ['PUT', 50],
    ]);
    f.request.path = `/api/v1/items/${j}?page=${j % 7}`;
    f.response.statusCode = pick(j * 7 + 3, [
      [200, 850],
      [404, 50],
      [301, 40],
      [500, 30],
      [304, 30],
    ]);
    const ct = pick(j * 13 + 1, [
      ['application/json', 700],
      ['text/html; charset=utf-8', 150],
      ['application/javascript', 100],
      ['image/png', 50],
    ]);
    f.response.headers = new Headers([['content-type', ct]]);
    const needle = j === 1234 ? ' needle-7f3a ' : '';
    f.response.content = Buffer.from(
      `{"id": ${j}, "items": [${Array.from({ length: 12 }, (_, k) => `{"k": ${k}, "name": "item ${j}-${k}"}`).join(', ')}]${needle}}`,
    );
    const record = encodeFlow(f);
    const id = Buffer.from(f.id, 'latin1');
    out.push({ row: flowRow(f, 0), record, idAt: record.indexOf(id) });
  }
  return out;
}

function uuid(n) {
  const hex = n.toString(16).padStart(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Generate (or reuse) the database; returns its path and how long writing took. */
async function database(env, n) {
  const dir = join(env.dataDir, 'store-cache');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `flows-${n}-v${GENERATOR_VERSION}.db`);
  if (existsSync(path)) return { path, generated: null };
  const { StoreDatabase } = await import('@mitmts/addon-store/engine');
  const tmp = `${path}.tmp`;
  for (const s of ['', '-wal', '-shm', '.records']) rmSync(tmp + s, { force: true });
  const store = StoreDatabase.open(tmp);
  const indexes = store.db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
    .pluck()
    .all();
  for (const name of indexes) store.db.exec(`DROP INDEX ${name}`);
  // A benchmark fixture: a crash while writing it means writing it again, so no syncs.
  store.db.pragma('synchronous = OFF');
  const tpl = await templates();
  const t0 = performance.now();
  const batch = 5000;
  for (let i = 0; i < n; i += batch) {
    const items = [];
    for (let k = i; k < Math.min(n, i + batch); k++) {
      const t = tpl[k % TEMPLATES];
      const id = uuid(k + 1);
      const record = Buffer.from(t.record);
      record.write(id, t.idAt, 'latin1');
      items.push({ row: { ...t.row, id }, record });
    }
    store.writeRecords(items);
  }
  const rowsSeconds = (performance.now() - t0) / 1000;
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  store.close();
  // Opening for writing builds the missing indexes.
  StoreDatabase.open(tmp).close();
  const seconds = (performance.now() - t0) / 1000;
  // The records file first: a database without it is not a finished one.
  renameSync(`${tmp}.records`, `${path}.records`);
  renameSync(tmp, path);
  return { path, generated: { seconds, rowsSeconds, perSecond: n / seconds } };
}

const CPU_AT_EXIT = join(ROOT, 'bench/lib/cpu-at-exit.cjs');

/** `mitmts flows ARGS` as a child process: wall time, its CPU time (user + system) and lines printed. */
function cli(env, args) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const cpuFile = join(env.dataDir, `flows-cpu-${process.pid}.json`);
    rmSync(cpuFile, { force: true });
    const childEnv = {
      ...process.env,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${CPU_AT_EXIT}`,
      MITMTS_BENCH_CPU_FILE: cpuFile,
    };
    const child = spawn(process.execPath, [join(ROOT, 'bin/mitmts.js'), 'flows', ...args], {
      cwd: ROOT,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let lines = 0;
    let err = '';
    child.stdout.on('data', (c) => {
      for (let i = c.indexOf(10); i >= 0; i = c.indexOf(10, i + 1)) lines++;
    });
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`mitmts flows ${args.join(' ')}: exit ${code}: ${err.trim()}`));
      const seconds = (performance.now() - t0) / 1000;
      let cpuSeconds = null;
      if (existsSync(cpuFile)) {
        const { user, system } = JSON.parse(readFileSync(cpuFile, 'utf8'));
        cpuSeconds = (user + system) / 1e6;
      }
      resolve({ seconds, cpuSeconds, lines });
    });
  });
}

async function timed(fn) {
  const t0 = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - t0) / 1000, value };
}

/** Bytes of the database and its records file. */
const onDisk = (path) => statSync(path).size + statSync(`${path}.records`).size;

export async function queryBenchmarks(env, _dir, n) {
  const db = await database(env, n);
  if (db.generated)
    env.log(
      `  generated ${fmt(n)} flows through the store's writer in ${db.generated.seconds.toFixed(1)} s (${fmt(db.generated.perSecond)} flows/s; rows ${db.generated.rowsSeconds.toFixed(1)} s, then the indexes); ${mib(onDisk(db.path))} on disk (database and records file)`,
    );
  else env.log(`  reusing ${db.path.slice(ROOT.length + 1)} (${mib(onDisk(db.path))} with its records file)`);
  const out = { flows: n, generated: db.generated, cli: {}, api: {} };
  const cliRuns = [
    ['indexed', ['~d example & ~c 404'], 'host and status: exact SQL prefilter'],
    ['url', ['~u /items/77 & ~c 500'], 'url LIKE scan + status index'],
    ['notmatched', ['!(~c 200 | ~c 404 | ~c 301 | ~c 304) & ~m PUT'], 'negations and a method'],
    ['body', ['~b needle-7f3a'], 'body search: every flow decoded'],
  ];
  const rows = [['mitmts flows DB ...', 'seconds', 'CPU s', 'flows printed', 'how']];
  for (const [key, args, how] of cliRuns) {
    out.cli[key] = await cli(env, [db.path, ...args]);
    const c = out.cli[key];
    rows.push([
      `'${args[0]}'`,
      c.seconds.toFixed(2),
      c.cpuSeconds === null ? '-' : c.cpuSeconds.toFixed(2),
      fmt(c.lines),
      how,
    ]);
  }
  env.log(table(rows));

  const { StoreDatabase, SqliteFlowIndex } = await import('@mitmts/addon-store/engine');
  const store = StoreDatabase.open(db.path, { readonly: true });
  const index = new SqliteFlowIndex(store);
  try {
    const api = [
      ['count()', () => index.count()],
      ["count('~c 404')", () => index.count('~c 404')],
      ["count('~d example')", () => index.count('~d example')],
      ['window sort=host limit=100', () => index.window({ sort: 'host', limit: 100 })],
      [
        "window '~c 404' sort=size desc",
        () => index.window({ filter: '~c 404', sort: 'size', desc: true, limit: 100 }),
      ],
      [
        "window '~hq x-none' scanLimit=10000",
        () => index.window({ filter: '~hq x-none', limit: 100, scanLimit: 10_000 }),
      ],
      [
        "window '~b needle-7f3a' scanLimit=10000",
        () => index.window({ filter: '~b needle-7f3a', limit: 100, scanLimit: 10_000 }),
      ],
      ['searchBodies scanLimit=10000', () => index.searchBodies({ pattern: 'needle-7f3a', scanLimit: 10_000 })],
    ];
    const arows = [['query interface', 'ms', 'result']];
    for (const [label, fn] of api) {
      const r = await timed(fn);
      const v = r.value;
      const shown =
        typeof v === 'number'
          ? fmt(v)
          : v.rows
            ? `${v.rows.length} rows, next ${v.next ? 'yes' : 'no'}`
            : `${v.matches.length} matches in ${fmt(v.scanned)} scanned`;
      out.api[label] = { ms: r.seconds * 1000, result: shown };
      arows.push([label, (r.seconds * 1000).toFixed(1), shown]);
    }
    env.log(table(arows));
  } finally {
    store.close();
  }
  return out;
}
