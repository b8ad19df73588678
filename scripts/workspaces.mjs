// The repository's npm workspaces, read from the root package.json (`dir` and `dir/*` entries),
// and the LICENSE each publishable one ships: `npm run build` copies the root LICENSE into every
// package that is not private, so `npm pack` / `npm publish` include it (the copies are not
// committed: one file is the truth).
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Every workspace: its directory (absolute) and its package.json. */
export function workspaces() {
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const dirs = root.workspaces.flatMap((w) =>
    w.endsWith('/*')
      ? readdirSync(join(ROOT, w.slice(0, -2)), { withFileTypes: true })
          .filter((e) => e.isDirectory() && existsSync(join(ROOT, w.slice(0, -2), e.name, 'package.json')))
          .map((e) => join(ROOT, w.slice(0, -2), e.name))
      : [join(ROOT, w)],
  );
  return dirs.map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }));
}

/** The workspaces that are published (not `private`). */
export function publishable() {
  return workspaces().filter((w) => !w.pkg.private);
}

/** Copy the root LICENSE into every publishable workspace. */
export function copyLicenses() {
  for (const { dir } of publishable()) copyFileSync(join(ROOT, 'LICENSE'), join(dir, 'LICENSE'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) copyLicenses();
