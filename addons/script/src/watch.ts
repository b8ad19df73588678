import { watch, watchFile, unwatchFile, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * Watches a set of files and calls back once per burst of changes (debounced). It watches the
 * files' directories rather than the files, so editors that save by writing a new file and
 * renaming it over the old one are seen too. Where `fs.watch` is unavailable it falls back to
 * polling the file's mtime every second, as mitmproxy does.
 */
export class FileWatcher {
  private readonly dirs = new Map<string, { watcher: FSWatcher | null; names: Set<string> }>();
  private readonly polled = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly onChange: () => void,
    private readonly debounceMs = 25,
  ) {}

  /** Watch exactly these files (absolute paths) from now on. */
  set(files: Iterable<string>): void {
    if (this.closed) return;
    const wanted = new Map<string, Set<string>>();
    for (const f of files) {
      const d = dirname(f);
      if (!wanted.has(d)) wanted.set(d, new Set());
      wanted.get(d)!.add(basename(f));
    }
    for (const [d, entry] of this.dirs) {
      if (wanted.has(d)) continue;
      entry.watcher?.close();
      this.dirs.delete(d);
    }
    for (const f of this.polled) {
      if (!wanted.get(dirname(f))?.has(basename(f))) {
        unwatchFile(f);
        this.polled.delete(f);
      }
    }
    for (const [d, names] of wanted) {
      const entry = this.dirs.get(d);
      if (entry) {
        entry.names = names;
        if (!entry.watcher) for (const n of names) this.poll(`${d}/${n}`);
        continue;
      }
      let watcher: FSWatcher | null = null;
      try {
        watcher = watch(d, { persistent: false }, (_event, name) => {
          if (name === null || this.dirs.get(d)?.names.has(basename(name.toString()))) this.schedule();
        });
        watcher.on('error', () => undefined);
      } catch {
        for (const n of names) this.poll(`${d}/${n}`);
      }
      this.dirs.set(d, { watcher, names });
    }
  }

  /** Every watched file. */
  files(): string[] {
    const out: string[] = [];
    for (const [d, e] of this.dirs) for (const n of e.names) out.push(`${d}/${n}`);
    return out.sort();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const e of this.dirs.values()) e.watcher?.close();
    this.dirs.clear();
    for (const f of this.polled) unwatchFile(f);
    this.polled.clear();
  }

  private poll(file: string): void {
    if (this.polled.has(file)) return;
    this.polled.add(file);
    watchFile(file, { persistent: false, interval: 1000 }, (cur, prev) => {
      if (cur.mtimeMs !== prev.mtimeMs) this.schedule();
    });
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.closed) this.onChange();
    }, this.debounceMs);
    this.timer.unref();
  }
}
