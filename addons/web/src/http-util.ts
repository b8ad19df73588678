/** Small helpers for the API's requests and answers. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** An answer with a status and a plain-text message (what `curl` shows and the page displays). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The request body, refused with 413 past `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit) {
      reject(new HttpError(413, `Request body too large: ${declared} bytes (at most ${limit}).`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > limit) {
        reject(new HttpError(413, `Request body too large (at most ${limit} bytes).`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function readJson(req: IncomingMessage, limit = 16 << 20): Promise<unknown> {
  const body = await readBody(req, limit);
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (err) {
    throw new HttpError(400, `The request body is not valid JSON: ${(err as Error).message}`);
  }
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

/** JSON text, with Buffers as latin1 strings and bigints as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (
      v &&
      typeof v === 'object' &&
      (v as { type?: unknown }).type === 'Buffer' &&
      Array.isArray((v as { data?: unknown }).data)
    ) {
      return Buffer.from((v as { data: number[] }).data).toString('latin1');
    }
    return v;
  });
}

/** JSON, with Buffers as latin1 strings and bigints as decimal strings. */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = toJson(value);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  type = 'text/plain; charset=utf-8',
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': type,
    'content-length': Buffer.byteLength(text),
    ...extra,
  });
  res.end(text);
}

/** Headers of a download (never rendered by the browser as a page of ours). */
function downloadHeaders(filename: string, type: string): Record<string, string> {
  return {
    ...SECURITY_HEADERS,
    'content-type': type,
    'content-disposition': `attachment; filename="${filename.replace(/[^\w.-]/g, '_')}"`,
    'content-security-policy': "default-src 'none'; sandbox",
  };
}

/** Bytes collected before a write while streaming: few syscalls, little memory. */
const STREAM_CHUNK = 64 << 10;

/**
 * An answer of any length, written piece by piece as `pieces` yields them (chunked), waiting
 * whenever the client reads slower than we produce: memory stays at a chunk or two however many
 * flows are sent. Stops reading `pieces` if the client goes away. `filename` makes it a download.
 */
export async function streamOut(
  res: ServerResponse,
  type: string,
  pieces: AsyncIterable<string | Buffer>,
  filename?: string,
): Promise<void> {
  res.writeHead(
    200,
    filename === undefined ? { ...SECURITY_HEADERS, 'content-type': type } : downloadHeaders(filename, type),
  );
  let held: Buffer[] = [];
  let size = 0;
  const write = async (): Promise<boolean> => {
    const chunk = held.length === 1 ? held[0]! : Buffer.concat(held, size);
    held = [];
    size = 0;
    if (res.write(chunk)) return !res.destroyed;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
    return !res.destroyed;
  };
  for await (const piece of pieces) {
    const b = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
    held.push(b);
    size += b.length;
    if (size >= STREAM_CHUNK && !(await write())) return;
  }
  if (size > 0 && !(await write())) return;
  res.end();
}

/** Raw bytes as a download (never rendered by the browser as a page of ours). */
export function sendBytes(
  res: ServerResponse,
  body: Buffer,
  filename: string,
  type = 'application/octet-stream',
): void {
  res.writeHead(200, { ...downloadHeaders(filename, type), 'content-length': body.length });
  res.end(body);
}
