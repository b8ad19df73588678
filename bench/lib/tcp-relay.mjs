// The process-hop floor: a Node process that relays TCP bytes to one port, untouched. A proxy is
// one more process on the path; on a busy machine each hop waits to be scheduled, and this
// relay pays exactly that (two hops) without parsing anything.
//
//   node bench/lib/tcp-relay.mjs UPSTREAM_PORT    (prints {"port": N} once listening)
import net from 'node:net';

const upPort = Number(process.argv[2]);
const server = net.createServer({ noDelay: true }, (down) => {
  const up = net.connect({ host: '127.0.0.1', port: upPort, noDelay: true });
  down.pipe(up);
  up.pipe(down);
  const close = () => {
    down.destroy();
    up.destroy();
  };
  for (const s of [down, up]) {
    s.on('error', close);
    s.once('close', close);
  }
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
process.on('SIGTERM', () => process.exit(0));
