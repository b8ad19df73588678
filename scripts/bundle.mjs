// Bundle the default distribution (kernel + the addons in package.json "mitmts.addons") into
// dist/mitmts.mjs: one file starts much faster than ~260 modules resolved one by one.
// bin/mitmts.js runs it when it is newer than every package build.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildProxy } from '@mitmts/sdk/cli';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
mkdirSync(`${root}dist`, { recursive: true });
const manifest = `${root}dist/mitmts.manifest.json`;
writeFileSync(manifest, JSON.stringify({ name: 'mitmts', version: pkg.version, addons: pkg.mitmts.addons }, null, 2));
const r = await buildProxy({ manifest, outfile: `${root}dist/mitmts.mjs` });
for (const w of r.warnings) console.warn(w);
console.log(`bundled dist/mitmts.mjs (${Math.round(r.bytes / 1024)} KiB, ${r.inputs} modules)`);
