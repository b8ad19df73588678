#!/usr/bin/env node
// A custom mitmts build for the benchmark: the default distribution (packages/mitmts) plus the
// same response hook as hook.ts, compiled in. The harness uses it when `mitmts -s` cannot load
// a script yet (no script addon in the build); the work per flow is the same either way.
import { readFileSync } from 'node:fs';
import { hook, main, ProxyServer } from '@mitmts/core';

class BenchHook {
  response(flow) {
    flow.response?.headers.set('x-bench', '1');
  }
}
// What `@hook('response')` does in TypeScript.
hook('response')(BenchHook.prototype, 'response', Object.getOwnPropertyDescriptor(BenchHook.prototype, 'response'));

const pkg = JSON.parse(readFileSync(new URL('../../packages/mitmts/package.json', import.meta.url), 'utf8'));
const dist = {
  name: 'mitmts-bench',
  version: pkg.version,
  addons: pkg.mitmts.addons,
  importer: (specifier) => import(specifier),
  builtins: [ProxyServer, BenchHook],
};
const code = await main(process.argv.slice(2), dist, { stdout: process.stdout, stderr: process.stderr });
process.exitCode = code;
setTimeout(() => process.exit(code), 1000).unref();
