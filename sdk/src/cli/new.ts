import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { CliIO, Subcommand } from '@mitmts/core';

/**
 * `mitmts new`: scaffold a script, an addon package or a custom build from `templates/`.
 * Template files carry placeholders: `__name__` (the name as given), `__Name__` (PascalCase),
 * `__name_snake__` (snake_case, for options) and `__mitmts_version__`; file names too.
 */

export const TEMPLATE_KINDS = ['script', 'addon', 'build'] as const;
export type TemplateKind = (typeof TEMPLATE_KINDS)[number];

export interface ScaffoldOptions {
  readonly kind: TemplateKind;
  /** Lower-case letters, digits and dashes, starting with a letter: `my-addon`. */
  readonly name: string;
  /** The `templates/` directory. */
  readonly templates: string;
  /**
   * Where to write. A script goes into this directory (default: the current one); an addon or a
   * build into a new directory `<dir>/<name>`.
   */
  readonly dir?: string;
  /** The @mitmts/sdk version generated package.json files depend on. */
  readonly version: string;
  /** Overwrite existing files. */
  readonly force?: boolean;
}

/** The placeholder values for a name: `my-tool` -> `MyTool`, `my_tool`. */
export function names(name: string): Record<string, string> {
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name)) {
    throw new Error(
      `Invalid name ${JSON.stringify(name)}: use lower-case letters, digits and dashes, starting with a letter (e.g. my-addon).`,
    );
  }
  const parts = name.split('-');
  return {
    __name__: name,
    __Name__: parts.map((p) => p[0]!.toUpperCase() + p.slice(1)).join(''),
    __name_snake__: parts.join('_'),
  };
}

function substitute(text: string, values: Readonly<Record<string, string>>): string {
  // Longest placeholders first: __name_snake__ contains no __name__, but keep it explicit.
  return text.replace(/__name_snake__|__Name__|__name__|__mitmts_version__/g, (m) => values[m] ?? m);
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

/** Write a template's files; returns the paths written. Refuses to overwrite unless `force`. */
export function scaffold(opts: ScaffoldOptions): string[] {
  if (!(TEMPLATE_KINDS as readonly string[]).includes(opts.kind)) {
    throw new Error(`Unknown template ${JSON.stringify(opts.kind)}: choose one of ${TEMPLATE_KINDS.join(', ')}.`);
  }
  const values = { ...names(opts.name), __mitmts_version__: opts.version };
  const source = join(opts.templates, opts.kind);
  if (!existsSync(source)) throw new Error(`Template ${opts.kind} not found in ${opts.templates}.`);
  const base = resolve(opts.dir ?? '.');
  const target = opts.kind === 'script' ? base : join(base, opts.name);
  const plan = walk(source).map((from) => ({ from, to: join(target, substitute(relative(source, from), values)) }));
  // A script lands in an existing folder: its package.json and tsconfig.json are only added if missing.
  const optional =
    opts.kind === 'script' ? new Set([join(target, 'package.json'), join(target, 'tsconfig.json')]) : new Set<string>();
  const files = plan.filter((f) => !(optional.has(f.to) && existsSync(f.to)));
  const clash = files.find((f) => existsSync(f.to));
  if (clash && !opts.force) throw new Error(`${clash.to} already exists; pass --force to overwrite.`);
  for (const f of files) {
    mkdirSync(join(f.to, '..'), { recursive: true });
    writeFileSync(f.to, substitute(readFileSync(f.from, 'utf8'), values));
  }
  return files.map((f) => f.to);
}

const NEW_USAGE = `usage: mitmts new <script|addon|build> NAME [--dir DIR] [--force]

  script NAME   NAME.ts (a typed hook) and NAME.test.ts in DIR (default: here); run it with mitmts -s NAME.ts
  addon NAME    an addon package in DIR/NAME, laid out like the built-in ones, with tests
  build NAME    a custom proxy build in DIR/NAME: a manifest of addons and an entry point

Then: npm install && npm test
`;

/** The `new` subcommand, reading templates from `templates` and depending on SDK `version`. */
export function newCommand(templates: string, version: string): Subcommand {
  return async (argv: string[], io: CliIO): Promise<number> => {
    const positional: string[] = [];
    let dir: string | undefined;
    let force = false;
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (a === '-h' || a === '--help') {
        io.stdout.write(NEW_USAGE);
        return 0;
      } else if (a === '--dir' || a === '-d') dir = argv[++i];
      else if (a === '--force' || a === '-f') force = true;
      else if (a.startsWith('-')) {
        io.stderr.write(`mitmts new: unknown option ${a}\n\n${NEW_USAGE}`);
        return 2;
      } else positional.push(a);
    }
    const [kind, name] = positional;
    if (positional.length !== 2 || !kind || !name) {
      io.stderr.write(NEW_USAGE);
      return 2;
    }
    try {
      const files = scaffold({
        kind: kind as TemplateKind,
        name,
        templates,
        version,
        force,
        ...(dir !== undefined ? { dir } : {}),
      });
      const root = resolve(dir ?? '.');
      io.stdout.write(`Created ${kind} ${name}:\n${files.map((f) => `  ${relative(root, f)}`).join('\n')}\n`);
      const where = kind === 'script' ? '' : `cd ${relative(process.cwd(), join(root, name)) || '.'} && `;
      io.stdout.write(`Next: ${where}npm install && npm test\n`);
      return 0;
    } catch (err) {
      io.stderr.write(`mitmts new: ${(err as Error).message}\n`);
      return 1;
    }
  };
}
