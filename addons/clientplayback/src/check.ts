import { type Flow, HTTPFlow } from '@mitmts/sdk';

/**
 * Why `flow` cannot be replayed, or null if it can (mitmproxy's checks and words): a live flow
 * (in an exchange, or being replayed), a held one, a request whose body was not recorded
 * (streamed without `store_streamed_bodies`), a WebSocket flow, or a flow that is not HTTP.
 */
export function replayProblem(flow: Flow): string | null {
  if (flow.live) return "Can't replay live flow.";
  if (flow.intercepted) return "Can't replay intercepted flow.";
  if (!(flow instanceof HTTPFlow)) return 'Can only replay HTTP flows.';
  if (flow.request.rawContent === null) return "Can't replay flow with missing content.";
  if (flow.websocket !== null) return "Can't replay WebSocket flows.";
  return null;
}

/** A flow named for a log line: `GET http://example.com/` or `tcp flow 1f3c...`. */
export function describeFlow(flow: Flow): string {
  return flow instanceof HTTPFlow ? `${flow.request.method} ${flow.request.url}` : `${flow.type} flow ${flow.id}`;
}
