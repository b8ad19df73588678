/**
 * Inspect, modify and drop WebSocket messages.
 * Run: mitmts -s websocket-simple.ts     (mitmproxy: examples/addons/websocket-simple.py)
 */
import { ctx, type HTTPFlow } from '@mitmts/sdk';

export function websocket_message(flow: HTTPFlow): void {
  // The latest message.
  const message = flow.websocket!.messages.at(-1)!;
  // Was it sent by the client or by the server?
  ctx.log.info(
    `${message.fromClient ? 'Client' : 'Server'} sent a message: ${JSON.stringify(message.content.toString())}`,
  );
  // Change it...
  message.content = Buffer.from(message.content.toString().replace(/^Hello/, 'HAPPY'));
  // ...or drop it: the other side never sees it.
  if (message.content.includes('FOOBAR')) message.drop();
}
