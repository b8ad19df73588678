// `npm run bench`: runs every benchmark in bench/ (files ending in .mjs), one after the other.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = dirname(fileURLToPath(import.meta.url));
for (const file of readdirSync(dir).filter((f) => f.endsWith('.mjs')).sort()) {
  console.log(`\n== ${file}`);
  await import(pathToFileURL(join(dir, file)).href);
}
