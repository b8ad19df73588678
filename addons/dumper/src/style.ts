/** ANSI styling with the exact escape sequences of mitmproxy's (click's) `style`. */

export type Color = 'red' | 'green' | 'yellow' | 'blue' | 'magenta' | 'cyan' | 'white' | 'bright_blue';

export interface Style {
  fg?: Color | null;
  bold?: boolean;
  dim?: boolean;
  blink?: boolean;
}

const COLORS: Record<Color, number> = {
  red: 31,
  green: 32,
  yellow: 33,
  blue: 34,
  magenta: 35,
  cyan: 36,
  white: 37,
  bright_blue: 94,
};

/** Wrap `text` in the codes for `style` (nothing for an empty style). */
export function ansi(text: string, style: Style): string {
  let out = '';
  if (style.fg) out += `\x1b[${COLORS[style.fg]}m`;
  if (style.bold !== undefined) out += style.bold ? '\x1b[1m' : '\x1b[22m';
  if (style.dim !== undefined) out += style.dim ? '\x1b[2m' : '\x1b[22m';
  if (style.blink !== undefined) out += style.blink ? '\x1b[5m' : '\x1b[25m';
  if (out === '' && style.fg === undefined) return text;
  return `${out}${text}\x1b[0m`;
}

/** A styler: `ansi` when colour is on, the identity otherwise. */
export type Styler = (text: string, style: Style) => string;

export const plain: Styler = (text) => text;
export const colored: Styler = ansi;
