/**
 * Python's `datetime.strftime` in the C locale, for `save_stream_file` patterns such as
 * `~/flows/%Y-%m-%d/%H.mitm`. Local time. Unknown directives are left as they are (as glibc
 * does). Pure.
 */

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

const pad = (n: number, width = 2, fill = '0'): string => String(n).padStart(width, fill);

function dayOfYear(d: Date): number {
  const start = new Date(d.getFullYear(), 0, 1);
  const utc = Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) - Date.UTC(start.getFullYear(), 0, 1);
  return Math.floor(utc / 86_400_000) + 1;
}

/** Week of the year, weeks starting on `firstDay` (0 Sunday, 1 Monday); days before the first are week 0. */
function weekOfYear(d: Date, firstDay: number): number {
  const yday = dayOfYear(d) - 1;
  const wday = (d.getDay() - firstDay + 7) % 7;
  return Math.floor((yday + 7 - wday) / 7);
}

/** ISO 8601 week-based year and week. */
function isoWeek(d: Date): [year: number, week: number] {
  const t = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  return [t.getUTCFullYear(), Math.ceil(((t.getTime() - yearStart) / 86_400_000 + 1) / 7)];
}

function tzOffset(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${sign}${pad(Math.floor(a / 60))}${pad(a % 60)}`;
}

function tzName(d: Date): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' })
    .formatToParts(d)
    .find((p) => p.type === 'timeZoneName');
  return part?.value ?? '';
}

type Directive = (d: Date) => string;

const DIRECTIVES: Record<string, Directive> = {
  a: (d) => DAYS[d.getDay()]!.slice(0, 3),
  A: (d) => DAYS[d.getDay()]!,
  w: (d) => String(d.getDay()),
  u: (d) => String(d.getDay() || 7),
  d: (d) => pad(d.getDate()),
  e: (d) => pad(d.getDate(), 2, ' '),
  b: (d) => MONTHS[d.getMonth()]!.slice(0, 3),
  h: (d) => MONTHS[d.getMonth()]!.slice(0, 3),
  B: (d) => MONTHS[d.getMonth()]!,
  m: (d) => pad(d.getMonth() + 1),
  y: (d) => pad(d.getFullYear() % 100),
  Y: (d) => String(d.getFullYear()),
  C: (d) => pad(Math.floor(d.getFullYear() / 100)),
  H: (d) => pad(d.getHours()),
  k: (d) => pad(d.getHours(), 2, ' '),
  I: (d) => pad(d.getHours() % 12 || 12),
  l: (d) => pad(d.getHours() % 12 || 12, 2, ' '),
  p: (d) => (d.getHours() < 12 ? 'AM' : 'PM'),
  P: (d) => (d.getHours() < 12 ? 'am' : 'pm'),
  M: (d) => pad(d.getMinutes()),
  S: (d) => pad(d.getSeconds()),
  f: (d) => pad(d.getMilliseconds() * 1000, 6),
  s: (d) => String(Math.floor(d.getTime() / 1000)),
  z: tzOffset,
  Z: tzName,
  j: (d) => pad(dayOfYear(d), 3),
  U: (d) => pad(weekOfYear(d, 0)),
  W: (d) => pad(weekOfYear(d, 1)),
  V: (d) => pad(isoWeek(d)[1]),
  G: (d) => String(isoWeek(d)[0]),
  g: (d) => pad(isoWeek(d)[0] % 100),
  F: (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`,
  T: (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`,
  R: (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}`,
  D: (d) => `${pad(d.getMonth() + 1)}/${pad(d.getDate())}/${pad(d.getFullYear() % 100)}`,
  x: (d) => `${pad(d.getMonth() + 1)}/${pad(d.getDate())}/${pad(d.getFullYear() % 100)}`,
  X: (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`,
  c: (d) =>
    `${DAYS[d.getDay()]!.slice(0, 3)} ${MONTHS[d.getMonth()]!.slice(0, 3)} ${pad(d.getDate(), 2, ' ')} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${d.getFullYear()}`,
  r: (d) =>
    `${pad(d.getHours() % 12 || 12)}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${d.getHours() < 12 ? 'AM' : 'PM'}`,
  n: () => '\n',
  t: () => '\t',
  '%': () => '%',
};

/** Does the pattern contain a directive (so that its value changes with time)? */
export function hasDirectives(pattern: string): boolean {
  return /%./.test(pattern);
}

/** Format a date (default now) with a strftime pattern. */
export function strftime(pattern: string, date: Date = new Date()): string {
  return pattern.replace(/%(.)/gs, (whole, c: string) => {
    const f = DIRECTIVES[c];
    return f ? f(date) : whole;
  });
}
