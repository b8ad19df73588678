// The repository's npm workspaces (read from the root package.json: `dir` and `dir/*` entries),
// and what makes the publishable ones ready to ship:
//   node scripts/workspaces.mjs licenses   copy the root LICENSE into each (npm run build does)
//   node scripts/workspaces.mjs pack DIR   npm pack each into DIR (npm run pack:all does)
// The LICENSE copies are not committed: one file is the truth.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
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

/**
 * `npm pack` every publishable workspace into `dest` (one npm run; build first). Returns npm's
 * report: name, version, filename and files of each tarball.
 */
export function packAll(dest, env = process.env) {
  mkdirSync(dest, { recursive: true });
  const args = [
    'pack',
    '--json',
    '--ignore-scripts',
    '--pack-destination',
    dest,
    ...publishable().flatMap((w) => ['-w', w.pkg.name]),
  ];
  const r = spawnSync('npm', args, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`npm pack failed:\n${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout.slice(r.stdout.indexOf('[')));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [cmd, dest] = process.argv.slice(2);
  if (cmd === 'licenses') copyLicenses();
  else if (cmd === 'pack' && dest) {
    const out = resolve(dest);
    for (const p of packAll(out)) console.log(join(out, p.filename));
  } else {
    console.error('usage: node scripts/workspaces.mjs licenses | pack DIR');
    process.exitCode = 2;
  }
}
