#!/usr/bin/env -S node --max-semi-space-size=2
// The default mitmts distribution: the kernel plus the addons listed in package.json "mitmts.addons".
// The V8 flag on the first line caps the young generation at 2 MiB per semi-space (Node 20 lets it
// grow to 16): a relay's garbage is mostly small objects that point at socket read buffers
// (malloc'd, outside the JS heap), which are freed only when a scavenge finds them dead; a young
// generation grown to 16 MiB let ~25 MiB of them wait during a 64 MiB HTTP/2 download (peak RSS
// 104 MiB; 86 MiB with the cap) for no measurable CPU saving on small streams. It only takes effect
// at start-up, so `node bin/mitmts.js` needs it on its own command line (scripts/node-flags.mjs
// reads it from here for the benchmarks and tests). See docs/ARCHITECTURE.md, "Memory".
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const pkgDir = new URL('..', import.meta.url);
const argv = process.argv.slice(2);

/**
 * dist/mitmts.mjs is this whole distribution bundled into one file (`npm run build` writes it;
 * the published package ships it), which starts in a fraction of the time. Use it unless
 * MITMTS_NO_BUNDLE is set; `new` and `build` always take the unbundled path. In a checkout of
 * the repository the bundle is stale once a package was rebuilt after it: then skip it too.
 */
function freshBundle() {
  if (process.env.MITMTS_NO_BUNDLE || argv[0] === 'new' || argv[0] === 'build') return null;
  const bundle = fileURLToPath(new URL('dist/mitmts.mjs', pkgDir));
  if (!existsSync(bundle)) return null;
  if (!fileURLToPath(pkgDir).includes('/node_modules/')) {
    const repo = new URL('../../', pkgDir);
    const built = statSync(bundle).mtimeMs;
    const dirs = ['core', 'sdk', ...readdirSync(new URL('addons', repo)).map((a) => `addons/${a}`)];
    for (const d of dirs) {
      const info = new URL(`${d}/tsconfig.tsbuildinfo`, repo);
      if (existsSync(info) && statSync(info).mtimeMs > built) return null;
    }
  }
  return bundle;
}

const bundle = argv[0] === 'flows' ? null : freshBundle();
if (argv[0] === 'flows') {
  // Reading flow files needs no kernel, no addons: load just that (a third of the start-up CPU
  // of the whole distribution, which matters when a tool or a model calls it in a loop).
  // The distribution's flow formats (the store's databases) register themselves when imported.
  const pkg = JSON.parse(readFileSync(new URL('package.json', pkgDir), 'utf8'));
  for (const spec of pkg.mitmts.flowFormats ?? []) await import(spec);
  const { runFlowsCommand } = await import('@mitmts/core/io/flows-command');
  process.exitCode = await runFlowsCommand(argv.slice(1), process.stdout, process.stderr);
} else if (bundle) {
  await import(bundle);
} else {
  const { main, ProxyServer } = await import('@mitmts/core');
  const pkg = JSON.parse(readFileSync(new URL('package.json', pkgDir), 'utf8'));
  const dist = {
    name: 'mitmts',
    version: pkg.version,
    addons: pkg.mitmts.addons,
    flowFormats: pkg.mitmts.flowFormats ?? [],
    importer: (specifier) => import(specifier),
    builtins: [ProxyServer],
  };
  // `new` and `build` load the SDK's tooling (and esbuild) only when asked for.
  const subcommands = {
    run: async (a, io) => (await import('@mitmts/sdk/run')).runCommand(dist)(a, io),
    new: async (a, io) =>
      (await import('@mitmts/sdk/cli')).newCommand(fileURLToPath(new URL('templates', pkgDir)), pkg.version)(a, io),
    build: async (a, io) => (await import('@mitmts/sdk/cli')).buildCommand()(a, io),
  };
  // Getters: stdout and stderr are opened only when something is printed.
  const io = {
    get stdout() {
      return process.stdout;
    },
    get stderr() {
      return process.stderr;
    },
  };
  const code = await main(argv, dist, io, subcommands);
  process.exitCode = code;
  // Let pending output drain, but never hang on a stray handle.
  setTimeout(() => process.exit(code), 1000).unref();
}
