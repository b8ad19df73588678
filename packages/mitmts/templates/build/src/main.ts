/**
 * An entry point of your own: the same addons embedded in a program with createProxy (for a
 * standalone command-line build, `npm run build` bundles mitmts.json instead).
 *
 *   node --experimental-strip-types src/main.ts   (Node 22.6+), or compile it with tsc
 */
import { createProxy } from '@mitmts/sdk';
import { Greeting } from './greeting.js';

const proxy = await createProxy({
  addons: [Greeting],
  listenPort: Number(process.env.PORT ?? 8080),
  confdir: '~/.mitmproxy',
  termlog: true,
});
process.stdout.write(`__name__ listening at ${proxy.url}; press Ctrl+C to stop.\n`);
process.once('SIGINT', () => void proxy.close());
