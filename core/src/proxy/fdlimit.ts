import { closeSync, openSync, readFileSync } from 'node:fs';

/** Where the warnings go (the proxy server's log). */
export interface FdLog {
  warn(msg: string): void;
  info(msg: string): void;
}

/** The soft and hard `RLIMIT_NOFILE` of this process, from `/proc/self/limits` (null elsewhere). */
export function openFileLimits(): { soft: string; hard: string } | null {
  try {
    const line = readFileSync('/proc/self/limits', 'latin1')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const m = line?.match(/^Max open files\s+(\S+)\s+(\S+)/);
    return m ? { soft: m[1]!, hard: m[2]! } : null;
  } catch {
    return null;
  }
}

/** The warning for running out of descriptors: the limit and how to raise it. */
export function fdMessage(code: 'EMFILE' | 'ENFILE', limits = openFileLimits()): string {
  if (code === 'ENFILE') {
    return (
      "Out of file descriptors (ENFILE): the system's open-file table is full, so new clients are refused and new server " +
      'connections fail. Raise it with sysctl fs.file-max, or close other programs.'
    );
  }
  const limit = limits
    ? `the limit (ulimit -n) is ${limits.soft}`
    : 'the process reached its open-file limit (ulimit -n)';
  const raise =
    limits && limits.hard !== limits.soft
      ? `Raise it up to the hard limit with \`ulimit -n ${limits.hard}\` before starting mitmts`
      : 'Raise it (`ulimit -n`, LimitNOFILE= in a systemd unit, nofile in /etc/security/limits.conf; the hard limit needs root)';
  return `Out of file descriptors (EMFILE): ${limit}, so new clients are refused and new server connections fail. ${raise}.`;
}

/**
 * Notices when the process runs out of file descriptors. When that happens libuv accepts and
 * closes waiting clients itself and tells nobody, so this samples instead: once a second it
 * opens and closes /dev/null, and an EMFILE or ENFILE is logged once per burst (again only after
 * a sample succeeded). `report` takes such errors from elsewhere (a listener's `error`).
 */
export class FdPressure {
  private timer: NodeJS.Timeout | null = null;
  private short: 'EMFILE' | 'ENFILE' | null = null;
  /** Read when sampling starts: with no descriptor left, /proc/self/limits cannot be opened. */
  private limits: ReturnType<typeof openFileLimits> = null;

  constructor(
    private readonly log: FdLog,
    private readonly periodMs = 1000,
  ) {}

  start(): void {
    if (this.timer !== null) return;
    this.limits = openFileLimits();
    this.timer = setInterval(() => this.sample(), this.periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Is this error one of running out of descriptors? Then it is reported (once per burst). */
  report(err: NodeJS.ErrnoException): boolean {
    if (err.code !== 'EMFILE' && err.code !== 'ENFILE') return false;
    if (this.short === null) {
      this.short = err.code;
      this.log.warn(fdMessage(err.code, this.limits ?? openFileLimits()));
    }
    return true;
  }

  /** One probe: open and close /dev/null. */
  sample(): void {
    try {
      closeSync(openSync('/dev/null', 'r'));
    } catch (e) {
      this.report(e as NodeJS.ErrnoException);
      return;
    }
    if (this.short !== null) {
      this.log.info(`File descriptors are available again (${this.short} is over).`);
      this.short = null;
    }
  }
}
