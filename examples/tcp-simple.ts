/**
 * Inspect and modify raw TCP messages (connections that are neither HTTP nor TLS).
 * Run: mitmts -s tcp-simple.ts --tcp-hosts example.com   (mitmproxy: examples/addons/tcp-simple.py)
 */
import { ctx, type TCPFlow } from '@mitmts/sdk';

export function tcp_message(flow: TCPFlow): void {
  const message = flow.messages.at(-1)!;
  message.content = Buffer.from(message.content.toString('latin1').replaceAll('foo', 'bar'), 'latin1');
  ctx.log.info(
    `tcp_message[from_client=${message.fromClient}, content=${JSON.stringify(message.content.toString('latin1'))}]`,
  );
}
