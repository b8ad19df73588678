// The TLS relay floor: a Node process that terminates TLS on both legs (ALPN h2 each way, the
// certificate of the upstream) and relays the bytes untouched. What any TLS-intercepting proxy
// in Node pays before it parses anything; (f) compares the HTTP/2 download against it.
//
//   node bench/lib/tls-relay.mjs UPSTREAM_PORT KEY CERT    (prints {"port": N} once listening)
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

const [upPort, keyPath, certPath] = process.argv.slice(2);
const secureContext = tls.createSecureContext({ key: readFileSync(keyPath), cert: readFileSync(certPath) });

const server = net.createServer({ noDelay: true }, (socket) => {
  const down = new tls.TLSSocket(socket, { isServer: true, secureContext, ALPNProtocols: ['h2'] });
  down.on('error', () => socket.destroy());
  down.once('secure', () => {
    const up = tls.connect({
      host: '127.0.0.1',
      port: Number(upPort),
      ALPNProtocols: [down.alpnProtocol || 'h2'],
      rejectUnauthorized: false,
      noDelay: true,
    });
    up.on('error', () => down.destroy());
    down.pipe(up);
    up.pipe(down);
    const close = () => {
      down.destroy();
      up.destroy();
    };
    down.once('close', close);
    up.once('close', close);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
process.on('SIGTERM', () => process.exit(0));
