import type { HookName } from './hookmap.js';

/**
 * The hooks this build never fires, and why. The one list: whoever wires a hook into the
 * runtime removes its line in the same change (test/docs/hooks.test.ts fails otherwise: it looks
 * for each hook's name in the runtime's source). A script that handles one of these gets a warning when it loads, and
 * docs/hooks.md marks them (a test keeps the two in step).
 */
export const UNFIRED_HOOKS: ReadonlyMap<HookName, string> = new Map<HookName, string>([
  ['udp_start', 'mitmts proxies no UDP other than DNS: the dns mode makes DNS flows'],
  ['udp_message', 'mitmts proxies no UDP other than DNS: the dns mode makes DNS flows'],
  ['udp_end', 'mitmts proxies no UDP other than DNS: the dns mode makes DNS flows'],
  ['udp_error', 'mitmts proxies no UDP other than DNS: the dns mode makes DNS flows'],
  ['quic_start_client', 'QUIC and HTTP/3 are not built: h3 in Alt-Svc is stripped, so clients use HTTP/2 or HTTP/1.1'],
  ['quic_start_server', 'QUIC and HTTP/3 are not built: h3 in Alt-Svc is stripped, so clients use HTTP/2 or HTTP/1.1'],
]);
