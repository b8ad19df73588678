/**
 * Server-Sent Events (`text/event-stream`), parsed as the WHATWG HTML standard says
 * (§9.2.6 "Interpreting an event stream"): lines end in CRLF, LF or CR; `field: value` lines
 * (one optional space after the colon); `data` lines joined with LF; a blank line dispatches;
 * lines starting with `:` are comments; a leading BOM is dropped. Unlike a browser, events are
 * returned even when their data is empty, because a capture wants to see them all.
 */

/** One dispatched event. */
export interface SseEvent {
  /** The `event` field, or `message` when none was given (the browser's default type). */
  event: string;
  /** The `data` lines joined with `\n`. */
  data: string;
  /** The `id` field, when the event carried one. */
  id?: string;
  /** The `retry` field (milliseconds), when the event carried a valid one. */
  retry?: number;
}

/**
 * Incremental parser: feed decoded text as it arrives (`push`), then `end()`. Each call returns
 * the events completed by that text. A CR at the end of a chunk is remembered, so a CRLF split
 * across two chunks is one line end.
 */
export class SseParser {
  private buf = '';
  private started = false;
  private afterCr = false;
  private event = '';
  private data: string[] = [];
  private id: string | undefined;
  private retry: number | undefined;
  private pending = false;

  /** Parse more of the stream; returns the events it completed. */
  push(text: string): SseEvent[] {
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.afterCr && text.startsWith('\n')) text = text.slice(1);
    this.afterCr = false;
    this.buf += text;
    const out: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < this.buf.length; i++) {
      const c = this.buf.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(this.buf.slice(start, i), out);
      if (c === 13) {
        if (i + 1 === this.buf.length) this.afterCr = true;
        else if (this.buf.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.buf = this.buf.slice(start);
    return out;
  }

  /**
   * The stream ended. The standard drops an event that was not followed by a blank line; a
   * capture keeps it (the server was cut off mid-event, and that is worth seeing).
   */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    if (this.buf.length > 0) this.line(this.buf, out);
    this.buf = '';
    this.dispatch(out);
    return out;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line.length === 0) return this.dispatch(out);
    if (line.charCodeAt(0) === 58 /* : */) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case 'event':
        this.event = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        return; // unknown fields are ignored, and do not start an event
    }
    this.pending = true;
  }

  private dispatch(out: SseEvent[]): void {
    if (!this.pending) return;
    const e: SseEvent = { event: this.event || 'message', data: this.data.join('\n') };
    if (this.id !== undefined) e.id = this.id;
    if (this.retry !== undefined) e.retry = this.retry;
    out.push(e);
    this.event = '';
    this.data = [];
    this.retry = undefined;
    this.id = undefined;
    this.pending = false;
  }
}

/** All events of a complete stream. */
export function parseSse(text: string): SseEvent[] {
  const p = new SseParser();
  return [...p.push(text), ...p.end()];
}

/** Is this Content-Type an event stream? */
export function isEventStream(contentType: string | undefined | null): boolean {
  return contentType != null && /^\s*text\/event-stream\s*(;|$)/i.test(contentType);
}
