// `npm test`: build, type-check the tests and lint, then vitest (arguments go to vitest:
// `npm test -- test/proxy` runs one folder after the same checks, without coverage).
//
// ESLint needs no build, and the build and the type checks are single-threaded for most of their
// run: they run on two lines side by side (on 2 cores this saves ESLint's ~35 s). Each step's
// output is printed in one piece when it ends, with its time, so the two lines never interleave.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = (pkg, file) => fileURLToPath(new URL(`../node_modules/${pkg}/${file}`, import.meta.url));

/** Run one step to completion; resolves with whether it succeeded. */
function step(name, cmd, args, { buffered = true } = {}) {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: buffered ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    const chunks = [];
    if (buffered) {
      child.stdout.on('data', (d) => chunks.push(d));
      child.stderr.on('data', (d) => chunks.push(d));
    }
    const done = (ok, why) => {
      const out = Buffer.concat(chunks).toString().trimEnd();
      const secs = ((performance.now() - t0) / 1000).toFixed(1);
      process.stdout.write(`\n> ${name} (${secs} s)${ok ? '' : `: ${why}`}\n${out ? `${out}\n` : ''}`);
      resolve(ok);
    };
    child.on('error', (err) => done(false, err.message));
    child.on('exit', (code, signal) => done(code === 0, signal ? `killed by ${signal}` : `exit code ${code}`));
  });
}

// Reruns check only what changed: ESLint's cache (by content: a checkout changes mtimes) and the
// tests' tsc build info live in node_modules/.cache, which a clean clone starts without.
const ESLINT_CACHE = [
  '--cache',
  '--cache-strategy',
  'content',
  '--cache-location',
  'node_modules/.cache/mitmts/eslint',
];
const PRETTIER_CACHE = ['--cache', '--cache-location', 'node_modules/.cache/mitmts/prettier', '--log-level', 'warn'];
const node = process.execPath;
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const tsc = (what, project) =>
  step(`tsc -p ${project} (${what} type-check)`, node, [BIN('typescript', 'bin/tsc'), '-p', project]);

// Two lines of work: the build then the tests' type check; ESLint, Prettier's check, then (once
// the build is done) the examples' type check, which needs the built declarations.
const build = step('npm run build', npm, ['run', '--silent', 'build']);
const checks = await Promise.all([
  build.then((ok) => ok && tsc('the tests', 'tsconfig.test.json')),
  step('eslint .', node, [BIN('eslint', 'bin/eslint.js'), ...ESLINT_CACHE, '.'])
    .then(
      async (ok) =>
        (await step('prettier --check .', node, [
          BIN('prettier', 'bin/prettier.cjs'),
          ...PRETTIER_CACHE,
          '--check',
          '.',
        ])) && ok,
    )
    .then(async (ok) => (await build) && (await tsc('the examples', 'examples')) && ok),
]);
if (checks.includes(false)) process.exit(1);

// With arguments, one vitest run of what they select. Without, the packages' own tests with
// coverage (each package's floor enforced: vitest.config.ts), then the end-to-end tests, whose
// proxies mostly run as child processes that coverage does not see anyway.
const vitest = (args) =>
  step(`vitest run ${args.join(' ')}`, node, [BIN('vitest', 'vitest.mjs'), 'run', ...args], { buffered: false });
const args = process.argv.slice(2);
const runs =
  args.length > 0
    ? [args]
    : [
        ['--project', 'packages', '--coverage.enabled'],
        ['--project', 'e2e'],
      ];
let ok = true;
for (const run of runs) ok = (await vitest(run)) && ok;
process.exit(ok ? 0 : 1);
