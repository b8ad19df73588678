/** The event log the page shows: the last log entries, numbered. */
import type { LogEntry } from '@mitmts/sdk';
import type { WebEvent } from './protocol.js';

export class EventLog {
  private readonly entries: WebEvent[] = [];
  private nextId = 1;

  constructor(private readonly limit = 5000) {}

  add(e: LogEntry): WebEvent {
    const ev: WebEvent = {
      id: this.nextId++,
      level: e.level,
      message: e.message,
      timestamp: e.timestamp,
      ...(e.addon ? { addon: e.addon } : {}),
    };
    this.entries.push(ev);
    // Trim in steps, not per entry: a log storm stays O(1) per entry.
    if (this.entries.length > this.limit + (this.limit >> 3)) this.entries.splice(0, this.entries.length - this.limit);
    return ev;
  }

  list(): readonly WebEvent[] {
    return this.entries;
  }
}
