import { addon, inject, KERNEL, LOG, type Kernel, type Logger } from '@mitmts/sdk';

/**
 * Exit with status 1 right after start-up if anything logged an error while starting (a
 * script that failed to load, a listener that could not bind, a flow file that cannot be
 * read...), as mitmdump does (mitmproxy's `errorcheck` addon). Load it last: it collects
 * error log entries from its construction until every other addon has run `running`.
 */
@addon({ name: 'errorcheck', description: 'Exit with status 1 if errors were logged during start-up.' })
export class ErrorCheck {
  /**
   * Repeat the errors on stderr before exiting. Off by default, as in mitmdump, whose terminal
   * log has printed them already; turn it on where nothing else shows the log.
   */
  repeatErrors = false;
  private stderrStream: NodeJS.WritableStream | null = null;

  /** Where the exit notice goes (default: stderr, opened only when something is written). */
  get stderr(): NodeJS.WritableStream {
    return (this.stderrStream ??= process.stderr);
  }

  set stderr(stream: NodeJS.WritableStream) {
    this.stderrStream = stream;
  }
  /** The error messages logged during start-up. */
  readonly errors: string[] = [];
  private stopListening: (() => void) | null;

  constructor(
    @inject(KERNEL) private readonly kernel: Kernel,
    @inject(LOG) log: Logger,
  ) {
    this.stopListening = log.onEntry((e) => {
      if (e.level === 'error') this.errors.push(e.message);
    });
  }

  async running(): Promise<void> {
    // Let log entries of work started by earlier `running` hooks land first.
    await new Promise((resolve) => setImmediate(resolve));
    this.stop();
    const n = this.errors.length;
    if (n === 0) return;
    const plural = n > 1 ? 's' : '';
    this.stderr.write(
      this.repeatErrors
        ? `Error${plural} logged during startup:\n${this.errors.join('\n')}\n`
        : `Error${plural} logged during startup, exiting...\n`,
    );
    this.kernel.requestShutdown(1);
  }

  done(): void {
    this.stop();
  }

  private stop(): void {
    this.stopListening?.();
    this.stopListening = null;
  }
}
