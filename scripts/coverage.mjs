// Coverage per package, from the last coverage run (coverage/coverage-summary.json, written by
// `npm test` or `npm run coverage`):
//   node scripts/coverage.mjs          print statements, branches, functions and lines per package
//   node scripts/coverage.mjs --write  set each package's floor just below it (test/coverage-floors.json)
// vitest.config.ts enforces the floors (`thresholds`, one glob per package): raise them with
// --write after adding tests; lowering one is a decision to explain in the commit.
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SUMMARY = new URL('../coverage/coverage-summary.json', import.meta.url);
const FLOORS = new URL('../test/coverage-floors.json', import.meta.url);
const METRICS = ['statements', 'branches', 'functions', 'lines'];
/** Points below the measured figure: a timing-dependent branch must not fail the suite. */
const MARGIN = 2;

let summary;
try {
  summary = JSON.parse(readFileSync(SUMMARY, 'utf8'));
} catch (err) {
  console.error(`Cannot read ${fileURLToPath(SUMMARY)} (${err.code ?? err.message}): run npm run coverage first.`);
  process.exit(1);
}

/** core, sdk or addons/<name>: the package a source file belongs to. */
const packageOf = (file) => /^(core|sdk|addons\/[^/]+)\/src\//.exec(relative(ROOT, file))?.[1];

const totals = new Map();
for (const [file, m] of Object.entries(summary)) {
  const pkg = file === 'total' ? undefined : packageOf(file);
  if (!pkg) continue;
  const t = totals.get(pkg) ?? Object.fromEntries(METRICS.map((k) => [k, { covered: 0, total: 0 }]));
  for (const k of METRICS) {
    t[k].covered += m[k].covered;
    t[k].total += m[k].total;
  }
  totals.set(pkg, t);
}

const pct = (c) => (c.total === 0 ? 100 : (100 * c.covered) / c.total);
const packages = [...totals.keys()].sort();
console.log(`${'package'.padEnd(32)}${METRICS.map((k) => k.padStart(12)).join('')}`);
for (const pkg of packages)
  console.log(`${pkg.padEnd(32)}${METRICS.map((k) => pct(totals.get(pkg)[k]).toFixed(1).padStart(12)).join('')}`);

if (process.argv.includes('--write')) {
  const floors = Object.fromEntries(
    packages.map((pkg) => [
      pkg,
      Object.fromEntries(METRICS.map((k) => [k, Math.max(0, Math.floor(pct(totals.get(pkg)[k])) - MARGIN)])),
    ]),
  );
  writeFileSync(FLOORS, `${JSON.stringify(floors, null, 2)}\n`);
  console.log(
    `wrote ${relative(ROOT, fileURLToPath(FLOORS))} (${packages.length} packages, ${MARGIN} points below the figures above)`,
  );
}
