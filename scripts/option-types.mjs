// Regenerates `CoreOptionValues` in sdk/src/options.ts from the option registry (the kernel's
// and the proxy runtime's options), so the typed options of createProxy follow new options.
// Run after `npm run build`: node scripts/option-types.mjs. test/embed/create-proxy.test.ts
// fails when the file is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { Kernel, ProxyServer } from '@mitmts/core';

const file = new URL('../sdk/src/options.ts', import.meta.url);
const TS = {
  bool: 'boolean',
  str: 'string',
  int: 'number',
  'str?': 'string | null',
  'int?': 'number | null',
  'str[]': 'readonly string[]',
};

const k = new Kernel({ termlog: false });
await k.add(ProxyServer);
const lines = [];
for (const name of [...k.options.names()].sort()) {
  const info = k.options.info(name);
  const type = info.choices
    ? [...info.choices.map((c) => JSON.stringify(c)), ...(info.type.endsWith('?') ? ['null'] : [])].join(' | ')
    : TS[info.type];
  const first = (info.help.match(/^.*?[.!?](?=\s|$)/s)?.[0] ?? info.help).replace(/\s+/g, ' ').replace(/\*\//g, '*\\/');
  lines.push(`  /** ${first} */`, `  readonly ${name}?: ${type};`);
}
await k.shutdown();

const text = readFileSync(file, 'utf8');
const start = text.indexOf('export interface CoreOptionValues {\n') + 'export interface CoreOptionValues {\n'.length;
const end = text.indexOf('\n}\n', start);
// Written as Prettier lays it out (npm test checks the repository's formatting).
const filepath = fileURLToPath(file);
const fresh = text.slice(0, start) + lines.join('\n') + text.slice(end);
writeFileSync(file, await prettier.format(fresh, { ...(await prettier.resolveConfig(filepath)), filepath }));
console.log(`sdk/src/options.ts: ${lines.length / 2} options`);
