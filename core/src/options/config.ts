import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Pair } from 'yaml';

// yaml is loaded on first use: most runs have no config.yaml, and start-up time matters.
let yamlModule: typeof import('yaml') | undefined;
function yaml(): typeof import('yaml') {
  return (yamlModule ??= createRequire(import.meta.url)('yaml') as typeof import('yaml'));
}
import { OptionsError } from '../kernel/errors.js';

export interface ConfigFile {
  path: string;
  /** option name -> typed YAML value */
  values: Record<string, unknown>;
  /** option name -> 1-based line in the file */
  lines: Record<string, number>;
}

/**
 * Read `config.yaml`: a YAML mapping of option names to values. Missing file: null. Invalid
 * YAML or anything but a mapping: an OptionsError naming the file and line.
 * Relative paths in `scripts` are resolved against the file's directory, as mitmproxy does.
 */
export async function readConfigFile(path: string): Promise<ConfigFile | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    // ENOTDIR: the confdir's path runs through a file; the CA store reports that clearly.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new OptionsError(`Cannot read config file ${path}: ${(err as Error).message}`, 'MITMTS_ERR_CONFIG_FILE');
  }
  return parseConfig(text, path);
}

/**
 * Option values as config.yaml text (what `parseConfig` reads back): one key per option, sorted
 * by name.
 */
export function formatConfig(values: Readonly<Record<string, unknown>>): string {
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(values).sort()) sorted[k] = values[k];
  return Object.keys(sorted).length === 0 ? '' : yaml().stringify(sorted);
}

export function parseConfig(text: string, path: string): ConfigFile {
  const { isMap, isScalar, LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  // uniqueKeys off: yaml compares every key with every other one (20,000 keys took seconds);
  // duplicates are found below with a Map instead.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const first = doc.errors[0];
  if (first) {
    const pos = lineCounter.linePos(first.pos[0]);
    const where = pos ? `${path}:${pos.line}:${pos.col}` : path;
    throw new OptionsError(`${where}: invalid YAML: ${first.message.split('\n')[0]}`, 'MITMTS_ERR_CONFIG_FILE');
  }
  // No prototype: a key named __proto__ is just an (unknown) option name.
  const out: ConfigFile = {
    path,
    values: Object.create(null) as Record<string, unknown>,
    lines: Object.create(null) as Record<string, number>,
  };
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return out;
  if (!isMap(doc.contents)) {
    const line = doc.contents.range ? lineCounter.linePos(doc.contents.range[0]).line : 1;
    throw new OptionsError(
      `${path}:${line}: expected a mapping of option names to values (e.g. "anticache: true"), found no keys.`,
      'MITMTS_ERR_CONFIG_FILE',
    );
  }
  for (const item of doc.contents.items as Pair[]) {
    const key = isScalar(item.key) ? String(item.key.value) : String(item.key);
    const line = isScalar(item.key) && item.key.range ? lineCounter.linePos(item.key.range[0]).line : 0;
    if (Object.hasOwn(out.lines, key)) {
      throw new OptionsError(
        `${path}:${line}: option ${key} is set twice (first on line ${out.lines[key]}); remove one of them.`,
        'MITMTS_ERR_CONFIG_FILE',
      );
    }
    const value: unknown =
      item.value === null
        ? null
        : isScalar(item.value)
          ? item.value.value
          : (item.value as { toJSON(): unknown }).toJSON();
    out.values[key] = value;
    out.lines[key] = line;
  }
  return out;
}
