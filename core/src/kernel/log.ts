import type { LogEntry, LogLevel } from '../hooks/data.js';

export type { LogEntry, LogLevel };

/** Severity order; `alert` sits just above `info` (shown at the default verbosity). */
export const LOG_LEVELS: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, alert: 21, warn: 30, error: 40 };

export type LogListener = (entry: LogEntry) => void;

/**
 * The kernel's log. Addons get one scoped to their name (entries carry `addon`). Listeners see
 * every entry (the terminal printer, the test harness, `add_log`).
 */
export class Logger {
  constructor(
    private readonly listeners: LogListener[] = [],
    readonly addon?: string,
  ) {}

  /** A logger whose entries carry this addon's name; shares listeners with its parent. */
  child(addon: string): Logger {
    return new Logger(this.listeners, addon);
  }

  onEntry(listener: LogListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  log(level: LogLevel, message: string): void {
    const entry: LogEntry =
      this.addon === undefined
        ? { level, message, timestamp: Date.now() / 1000 }
        : { level, message, timestamp: Date.now() / 1000, addon: this.addon };
    for (const l of this.listeners) {
      try {
        l(entry);
      } catch {
        // A broken listener must not break logging for everyone else.
      }
    }
  }

  debug(message: string): void {
    this.log('debug', message);
  }
  info(message: string): void {
    this.log('info', message);
  }
  alert(message: string): void {
    this.log('alert', message);
  }
  warn(message: string): void {
    this.log('warn', message);
  }
  error(message: string): void {
    this.log('error', message);
  }
}

export interface TermLogOptions {
  /** Where info/debug/alert go (default stdout) and where warn/error go (default stderr). */
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
  /** Colour the level; defaults to whether the stream is a TTY. */
  color?: boolean;
  /** Current verbosity (read on every entry, so option changes apply at once). */
  verbosity: () => LogLevel;
}

const COLORS: Record<LogLevel, string> = {
  debug: '\x1b[2m',
  info: '',
  alert: '\x1b[35m',
  warn: '\x1b[33m',
  error: '\x1b[31m',
};

/** The terminal printer, honouring `termlog_verbosity` (`-q` = error, `-v` = debug). */
export function termLog(opts: TermLogOptions): LogListener {
  return (entry) => {
    if (LOG_LEVELS[entry.level] < LOG_LEVELS[opts.verbosity()]) return;
    // Streams are looked up on the first line printed: a quiet proxy never opens stdout.
    const stream =
      LOG_LEVELS[entry.level] >= LOG_LEVELS.warn ? (opts.err ?? process.stderr) : (opts.out ?? process.stdout);
    const color = opts.color ?? (stream as { isTTY?: boolean }).isTTY === true;
    const prefix = entry.level === 'info' ? '' : `[${entry.level}] `;
    const text = `${prefix}${entry.message}`;
    stream.write(color && COLORS[entry.level] ? `${COLORS[entry.level]}${text}\x1b[0m\n` : `${text}\n`);
  };
}
