import type { HTTPFlow, Message } from '../../flow/index.js';
import type { ExchangeContext } from './exchange.js';

/**
 * The size past which a body is streamed instead of buffered: `stream_large_bodies` when set,
 * else the default ceiling `max_buffered_body` (unless `body_size_limit` is set: then, as in
 * mitmproxy, every body up to that limit is buffered). Null: buffer everything.
 */
export function streamThreshold(ctx: ExchangeContext): number | null {
  return ctx.config.streamLargeBodies ?? ctx.config.bufferCeiling;
}

/**
 * A body is streamed because of its size (not because an addon asked): the message says so
 * (`stream = true`; its content stays null unless `store_streamed_bodies`), and when the default
 * ceiling made that choice, a warning names the option. `length` is the declared length, or -1
 * when the body outgrew the threshold while it was read.
 */
export function streamedForSize(ctx: ExchangeContext, flow: HTTPFlow, message: Message, length: number): void {
  message.stream = true;
  const cfg = ctx.config;
  if (cfg.streamLargeBodies !== null || cfg.bufferCeiling === null) return;
  const side = message === flow.request ? 'request' : 'response';
  const size = length >= 0 ? `of ${length} bytes` : `over ${cfg.bufferCeiling} bytes`;
  const kept = cfg.storeStreamedBodies ? 'kept by store_streamed_bodies' : 'not kept in the flow';
  ctx.log.warn(
    `${ctx.describe()}: ${side} body ${size} of ${flow.request.method} ${flow.request.prettyUrl} is larger than max_buffered_body (${cfg.bufferCeiling} bytes): streamed, hooks do not see it, ${kept}. Raise max_buffered_body (or unset it) to buffer such bodies.`,
  );
}
