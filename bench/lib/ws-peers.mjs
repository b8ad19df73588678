// WebSocket peers for bench scenario (f), by hand so that they cost little next to the proxy:
// frames are built once, parsed by their headers only, and written in batches.
//
//   node ws-peers.mjs server            echo server: sends { port } over IPC once listening
//   node ws-peers.mjs client JSON       load generator: prints one JSON line with its counts
//
// Client settings (JSON): { proxy: port | null, target: { host, port }, connections, window,
// warmupMs, durationMs, deflate }. Each connection keeps `window` messages in flight: it sends
// that many, then one more per echo. Through a proxy the upgrade request is in absolute form (the
// proxy's regular mode), direct in origin form. With `deflate`, permessage-deflate without
// context takeover is agreed, every message is the same compressed frame (RSV1) and the server
// echoes it as it came. Messages are 47-byte masked text frames, as a ticker app sends them.
import { createHash } from 'node:crypto';
import net from 'node:net';
import zlib from 'node:zlib';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const TEXT = Buffer.from('{"type":"tick","seq":1,"sym":"ABC","px":100.25}');
const NO_TAKEOVER = 'permessage-deflate; client_no_context_takeover; server_no_context_takeover';

/** Complete frames at the start of `buf`: [count of data frames, bytes used]. */
function scan(buf, onFrame) {
  let off = 0;
  let n = 0;
  while (buf.length - off >= 2) {
    const b1 = buf[off + 1];
    let len = b1 & 0x7f;
    let head = 2;
    if (len === 126) {
      if (buf.length - off < 4) break;
      len = buf.readUInt16BE(off + 2);
      head = 4;
    } else if (len === 127) {
      if (buf.length - off < 10) break;
      len = Number(buf.readBigUInt64BE(off + 2));
      head = 10;
    }
    const masked = (b1 & 0x80) !== 0;
    const total = head + (masked ? 4 : 0) + len;
    if (buf.length - off < total) break;
    if (onFrame) onFrame(buf, off, head, masked, len);
    if ((buf[off] & 0x0f) !== 0x8) n++;
    off += total;
  }
  return [n, off];
}

/**
 * Read a WebSocket connection: `onHead(head)` once the HTTP head arrived (return false to stop),
 * then `onFrames(buf)` with the bytes after it, which returns how many it used (the rest waits
 * for more).
 */
function framed(socket, onHead, onFrames) {
  let buf = Buffer.alloc(0);
  let open = false;
  socket.on('data', (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    if (!open) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0 || onHead(buf.subarray(0, end).toString('latin1')) === false) return;
      open = true;
      buf = buf.subarray(end + 4);
    }
    buf = buf.subarray(onFrames(buf));
  });
}

function server() {
  const srv = net.createServer({ noDelay: true }, (s) => {
    framed(
      s,
      (head) => {
        const key = /sec-websocket-key: *(\S+)/i.exec(head)[1];
        const ext = /sec-websocket-extensions: *permessage-deflate/i.test(head)
          ? `Sec-WebSocket-Extensions: ${NO_TAKEOVER}\r\n`
          : '';
        s.write(
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${createHash(
            'sha1',
          )
            .update(key + GUID)
            .digest('base64')}\r\n${ext}\r\n`,
        );
      },
      (buf) => {
        const out = [];
        const [, used] = scan(buf, (b, off, head, masked, len) => {
          const key = b.subarray(off + head, off + head + 4);
          const payload = Buffer.from(b.subarray(off + head + 4, off + head + 4 + len));
          for (let i = 0; i < len; i++) payload[i] ^= key[i & 3];
          if ((b[off] & 0x0f) === 0x8) return void s.end();
          out.push(
            Buffer.from([b[off], len < 126 ? len : 126]),
            len < 126 ? Buffer.alloc(0) : Buffer.from([len >> 8, len & 255]),
            payload,
          );
        });
        if (out.length) s.write(Buffer.concat(out));
        return used;
      },
    );
    s.on('error', () => undefined);
  });
  srv.listen(0, '127.0.0.1', () => process.send({ port: srv.address().port }));
}

/** One client frame: FIN + text (+ RSV1), masked with a fixed key. */
function clientFrame(deflate) {
  let payload = TEXT;
  if (deflate) {
    const z = zlib.deflateRawSync(TEXT, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    payload = z.subarray(0, z.length - 4);
  }
  const mask = [0x12, 0x34, 0x56, 0x78];
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i & 3]));
  return Buffer.concat([Buffer.from([deflate ? 0xc1 : 0x81, 0x80 | payload.length, ...mask]), masked]);
}

async function client(cfg) {
  const frame = clientFrame(cfg.deflate);
  const block = Buffer.concat(Array.from({ length: cfg.window }, () => frame));
  const { host, port } = cfg.target;
  const path = cfg.proxy ? `http://${host}:${port}/` : '/';
  const ext = cfg.deflate ? `Sec-WebSocket-Extensions: ${NO_TAKEOVER}\r\n` : '';
  const request = `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${ext}\r\n`;
  let total = 0;
  let measured = 0;
  let measuring = false;
  const sockets = await Promise.all(
    Array.from(
      { length: cfg.connections },
      () =>
        new Promise((resolve, reject) => {
          const s = net.connect({ host: '127.0.0.1', port: cfg.proxy ?? port, noDelay: true });
          s.on('error', reject);
          framed(
            s,
            (head) => {
              const why = !head.startsWith('HTTP/1.1 101')
                ? `upgrade refused: ${head.split('\r\n')[0]}`
                : cfg.deflate && !/permessage-deflate/i.test(head)
                  ? 'permessage-deflate was not agreed'
                  : null;
              if (why) {
                reject(new Error(why));
                return false;
              }
              resolve(s);
            },
            (buf) => {
              const [n, used] = scan(buf, null);
              if (n === 0) return used;
              total += n;
              if (measuring) measured += n;
              s.write(
                n <= cfg.window
                  ? block.subarray(0, n * frame.length)
                  : Buffer.concat(Array.from({ length: n }, () => frame)),
              );
              return used;
            },
          );
          s.write(request);
        }),
    ),
  );
  for (const s of sockets) s.write(block);
  await new Promise((r) => setTimeout(r, cfg.warmupMs));
  measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, cfg.durationMs));
  measuring = false;
  const seconds = (performance.now() - t0) / 1000;
  for (const s of sockets) s.destroy();
  process.stdout.write(
    `${JSON.stringify({ echoes: measured, seconds, rate: measured / seconds, totalEchoes: total })}\n`,
  );
}

const [mode, json] = process.argv.slice(2);
if (mode === 'server') server();
else if (mode === 'client')
  client(JSON.parse(json)).catch((e) => process.stdout.write(`${JSON.stringify({ failed: e.message })}\n`));
else {
  process.stderr.write('usage: node ws-peers.mjs server | client JSON\n');
  process.exit(2);
}
