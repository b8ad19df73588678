// TEMPORARY STUB: replaced by the flow model (branch `flow`).
export * from './state.js';
export class Connection { id = ''; error: string | null = null; }
export class Client extends Connection { readonly kind = 'client' as const; }
export class Server extends Connection { readonly kind = 'server' as const; }
export class Flow { id = ''; intercepted = false; marked = ''; waitForResume(): Promise<void> { return Promise.resolve(); } }
export class HTTPFlow extends Flow { readonly type = 'http' as const; request: unknown; }
export class TCPFlow extends Flow { readonly type = 'tcp' as const; messages: unknown[] = []; }
export class UDPFlow extends Flow { readonly type = 'udp' as const; messages: unknown[] = []; }
export class DNSFlow extends Flow { readonly type = 'dns' as const; request: unknown; }
