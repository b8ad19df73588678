import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketMessage } from '@mitmts/sdk';
import { twebsocketflow, withAddons, type TestContext } from '@mitmts/sdk/testing';
import { ScriptLoader } from '@mitmts/addon-script';

// The script loaded as with -s, its hook fired on a test flow by the harness (the proxy fires the
// same hook for each message of a live connection; mitmts's own tests cover that with real peers).
let tctx: TestContext;
beforeAll(async () => {
  tctx = await withAddons([ScriptLoader], { scripts: [new URL('websocket-simple.ts', import.meta.url).pathname] });
});
afterAll(() => tctx.done());

describe('websocket-simple', () => {
  it('rewrites greetings and drops FOOBAR messages', async () => {
    const f = twebsocketflow({ messages: false });
    f.websocket!.messages.push(new WebSocketMessage(1, true, Buffer.from('Hello there')));
    await tctx.trigger('websocket_message', f);
    f.websocket!.messages.push(new WebSocketMessage(1, false, Buffer.from('FOOBAR!')));
    await tctx.trigger('websocket_message', f);
    const [hello, foobar] = f.websocket!.messages;
    expect(hello!.content.toString()).toBe('HAPPY there');
    expect(hello!.dropped).toBe(false);
    expect(foobar!.dropped).toBe(true);
    expect(tctx.messages('info')).toContain('Client sent a message: "Hello there"');
  });
});
