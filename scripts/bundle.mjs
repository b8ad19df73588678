// Bundle the default distribution (kernel + the addons in packages/mitmts/package.json
// "mitmts.addons") into packages/mitmts/dist/mitmts.mjs: one file starts much faster than ~260
// modules resolved one by one. The mitmts bin runs it (in this checkout: while it is newer than
// every package build), and the published package ships it.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildProxy } from '@mitmts/sdk/cli';

const cli = fileURLToPath(new URL('../packages/mitmts/', import.meta.url));
const pkg = JSON.parse(readFileSync(`${cli}package.json`, 'utf8'));
mkdirSync(`${cli}dist`, { recursive: true });
const manifest = `${cli}dist/mitmts.manifest.json`;
writeFileSync(manifest, JSON.stringify({ name: 'mitmts', version: pkg.version, addons: pkg.mitmts.addons }, null, 2));
const r = await buildProxy({ manifest, outfile: `${cli}dist/mitmts.mjs` });
for (const w of r.warnings) console.warn(w);
console.log(`bundled packages/mitmts/dist/mitmts.mjs (${Math.round(r.bytes / 1024)} KiB, ${r.inputs} modules)`);
