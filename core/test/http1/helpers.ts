import { Buffer } from 'node:buffer';
import {
  type Http1Error,
  type Http1ParserOptions,
  type RawHeaders,
  RequestParser,
  type RequestHead,
  ResponseParser,
  type ResponseHead,
} from '../../src/proxy/http1/index.js';

/** What a parser reported, in order, with bytes turned into strings for easy comparison. */
export type Event =
  | { type: 'head'; head: RequestHead | ResponseHead }
  | { type: 'info'; head: ResponseHead }
  | { type: 'data'; data: string }
  | { type: 'trailers'; trailers: Array<[string, string]> }
  | { type: 'end' }
  | { type: 'error'; error: Http1Error };

export const str = (headers: RawHeaders): Array<[string, string]> =>
  headers.map(([n, v]) => [n.toString('latin1'), v.toString('latin1')]);

/** A recorder usable as request or response handler. */
export class Recorder {
  events: Event[] = [];
  /** Hook run after each event is recorded (tests use it to pause, call next(), ...). */
  after: ((e: Event) => void) | null = null;
  private add(e: Event): void {
    this.events.push(e);
    this.after?.(e);
  }
  onHead = (head: RequestHead | ResponseHead): void => this.add({ type: 'head', head });
  onInformational = (head: ResponseHead): void => this.add({ type: 'info', head });
  onData = (chunk: Buffer): void => {
    const last = this.events[this.events.length - 1];
    // merge adjacent data events so that split feeding compares equal to whole feeding
    if (last?.type === 'data') {
      last.data += chunk.toString('latin1');
      this.after?.(last);
    } else {
      this.add({ type: 'data', data: chunk.toString('latin1') });
    }
  };
  onTrailers = (t: RawHeaders): void => this.add({ type: 'trailers', trailers: str(t) });
  onEnd = (): void => this.add({ type: 'end' });
  onError = (error: Http1Error): void => this.add({ type: 'error', error });

  take(): Event[] {
    return this.events.splice(0);
  }
  get heads(): Array<RequestHead | ResponseHead> {
    return this.events.flatMap((e) => (e.type === 'head' ? [e.head] : []));
  }
  get error(): Http1Error | undefined {
    const e = this.events.find((x) => x.type === 'error');
    return e?.type === 'error' ? e.error : undefined;
  }
}

/** A request parser that reads every pipelined request (calls next() after each end). */
export function requestParser(options?: Http1ParserOptions): { parser: RequestParser; rec: Recorder } {
  const rec = new Recorder();
  const parser = new RequestParser(rec, options);
  rec.after = (e) => {
    if (e.type === 'end') parser.next();
  };
  return { parser, rec };
}

/** A response parser expecting responses to `methods` in order. */
export function responseParser(
  methods: string[],
  options?: Http1ParserOptions,
): { parser: ResponseParser; rec: Recorder } {
  const rec = new Recorder();
  const parser = new ResponseParser(rec, options);
  const queue = [...methods];
  rec.after = (e) => {
    if (e.type === 'end' && queue.length > 0 && parser.isIdle) parser.next(queue.shift()!);
  };
  parser.next(queue.shift() ?? 'GET');
  return { parser, rec };
}

/** Parses `input` fed as the given pieces (byte strings, latin1). */
export function parseRequests(input: string | string[], options?: Http1ParserOptions, finish = false): Recorder {
  const { parser, rec } = requestParser(options);
  for (const piece of Array.isArray(input) ? input : [input]) parser.push(Buffer.from(piece, 'latin1'));
  if (finish) parser.finish();
  return rec;
}

export function parseResponses(
  input: string | string[],
  methods: string[] = ['GET'],
  options?: Http1ParserOptions,
  finish = false,
): Recorder {
  const { parser, rec } = responseParser(methods, options);
  for (const piece of Array.isArray(input) ? input : [input]) parser.push(Buffer.from(piece, 'latin1'));
  if (finish) parser.finish();
  return rec;
}

/** A comparable digest of events: heads reduced to the fields that matter. */
export function digest(events: Event[]): unknown[] {
  return events.map((e) => {
    switch (e.type) {
      case 'head':
      case 'info': {
        const { headers, ...rest } = e.head;
        return { type: e.type, ...rest, headers: str(headers) };
      }
      case 'error':
        return { type: 'error', code: e.error.code };
      default:
        return e;
    }
  });
}

/** Every way to cut `s` in two, plus byte-by-byte. */
export function splits(s: string): string[][] {
  const out: string[][] = [];
  for (let i = 1; i < s.length; i++) out.push([s.slice(0, i), s.slice(i)]);
  out.push(s.split(''));
  return out;
}
