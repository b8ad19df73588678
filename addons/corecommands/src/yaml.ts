/**
 * Options as YAML, the way config.yaml holds them: one `name: value` line per option, sorted by
 * name; strings double-quoted (JSON string syntax is valid YAML), sequences as block lists.
 */
export function serializeOptions(values: Readonly<Record<string, unknown>>): string {
  const lines: string[] = [];
  for (const name of Object.keys(values).sort()) {
    const v = values[name];
    if (Array.isArray(v)) {
      if (v.length === 0) lines.push(`${name}: []`);
      else lines.push(`${name}:`, ...v.map((x) => `- ${scalar(x)}`));
    } else {
      lines.push(`${name}: ${scalar(v)}`);
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  return JSON.stringify(String(v));
}
