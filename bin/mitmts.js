#!/usr/bin/env node
// The default mitmts distribution: the kernel plus the addons listed in package.json "mitmts.addons".
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { main, ProxyServer } from '@mitmts/core';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const dist = {
  name: 'mitmts',
  version: pkg.version,
  addons: pkg.mitmts.addons,
  importer: (specifier) => import(specifier),
  builtins: [ProxyServer],
};
// `new` and `build` load the SDK's tooling (and esbuild) only when asked for.
const subcommands = {
  new: async (argv, io) => (await import('@mitmts/sdk/cli')).newCommand(fileURLToPath(new URL('../templates', import.meta.url)), pkg.version)(argv, io),
  build: async (argv, io) => (await import('@mitmts/sdk/cli')).buildCommand()(argv, io),
};
const code = await main(process.argv.slice(2), dist, { stdout: process.stdout, stderr: process.stderr }, subcommands);
process.exitCode = code;
// Let pending output drain, but never hang on a stray handle.
setTimeout(() => process.exit(code), 1000).unref();
