import { describe, expect, it } from 'vitest';
import { hook, type HTTPFlow } from '@mitmts/sdk';
import { addonsFromExports, scriptStem, unfiredHookWarnings } from '../src/exports.js';

class A {}
const b = { name: 'b' };
const request = (): void => undefined;

describe('addonsFromExports', () => {
  it.each([
    ['a default class', { default: A }, [A]],
    ['a default array', { default: [A, b] }, [A, b]],
    ['export const addons', { addons: [b] }, [b]],
    ['addons and a default, each once', { addons: [A], default: A }, [A]],
  ])('takes %s', (_what, exports, expected) => {
    expect(addonsFromExports(exports, '/x/s.ts')).toEqual(expected);
  });

  it('gathers module-level hook functions into one addon named after the file', () => {
    const [mod, other] = addonsFromExports({ request, helper: () => 1, addons: [b] }, '/x/my-script.ts') as [
      Record<string, unknown>,
      unknown,
    ];
    expect(mod).toEqual({ name: 'my-script', request });
    expect(other).toBe(b);
  });

  it('uses an exported name for the module addon', () => {
    expect(addonsFromExports({ request, name: 'mine' }, '/x/s.ts')).toEqual([{ name: 'mine', request }]);
  });

  it.each([
    ['nothing', {}, /provides no addon/],
    ['a non-array addons', { addons: b }, /must be an array/],
    ['a number', { default: 3 }, /the default export must be an addon/],
    ['null in addons', { addons: [null] }, /addons\[0\] must be an addon .*got null/],
  ])('rejects %s', (_what, exports, message) => {
    let err: unknown;
    try {
      addonsFromExports(exports, '/x/s.ts');
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string }).code).toBe('MITMTS_ERR_ADDON_INVALID');
    expect((err as Error).message).toMatch(message);
  });

  it.each([
    ['export function responze', { responze: request }, 'export function responze is no hook. Did you mean response?'],
    [
      'export function responseHeaders',
      { responseHeaders: request },
      'export function responseHeaders is no hook. Did you mean responseheaders?',
    ],
    [
      'export function reqeust',
      { reqeust: request, request },
      'export function reqeust is no hook. Did you mean request?',
    ],
    [
      'a method requst on an object addon',
      { default: { name: 'o', requst: request } },
      "the default export's method requst is no hook. Did you mean request?",
    ],
  ])('rejects %s, naming the hook it resembles', (_what, exports, message) => {
    expect(() => addonsFromExports(exports, '/x/s.ts')).toThrow(
      expect.objectContaining({
        code: 'MITMTS_ERR_UNKNOWN_HOOK',
        message: expect.stringContaining(`/x/s.ts: ${message}`),
      }),
    );
  });

  it('leaves helper functions with other names alone', () => {
    expect(addonsFromExports({ request, parse: request, respond: request, tcp: request }, '/x/s.ts')).toEqual([
      { name: 's', request },
    ]);
  });

  it('lists the hooks an addon handles that this build never fires, children included', () => {
    class Udp {
      @hook('udp_start') opened(): void {}
      @hook('dns_request') answer(): void {}
      @hook('response') stamp(_f: HTTPFlow): void {}
    }
    const parent = { name: 'p', udp_message: request, addons: [{ name: 'child', quic_start_client: request }] };
    expect(unfiredHookWarnings([Udp, parent], '/x/s.ts')).toEqual([
      'script /x/s.ts: the udp_start hook never fires in this build (mitmts proxies no UDP other than DNS: the dns mode makes DNS flows).',
      'script /x/s.ts: the udp_message hook never fires in this build (mitmts proxies no UDP other than DNS: the dns mode makes DNS flows).',
      'script /x/s.ts: the quic_start_client hook never fires in this build (QUIC and HTTP/3 are not built: h3 in Alt-Svc is stripped, so clients use HTTP/2 or HTTP/1.1).',
    ]);
    // hooks the runtime fires (WebSocket, DNS, SOCKS5, upstream) are never warned about
    expect(
      unfiredHookWarnings(
        [
          {
            name: 'w',
            websocket_message: request,
            dns_request: request,
            socks5_auth: request,
            http_connect_upstream: request,
          },
        ],
        '/x/s.ts',
      ),
    ).toEqual([]);
    expect(unfiredHookWarnings([{ name: 'fine', request, response: request }], '/x/s.ts')).toEqual([]);
  });

  it('names scripts by their stem', () => {
    expect(scriptStem('/a/b/c.test.mts')).toBe('c.test');
  });
});
