import net from 'node:net';
import { CertStore } from '../certs/store.js';
import { caPaths } from '../certs/files.js';
import type { LeafKeyType } from '../certs/leafkey.js';
import type { Flow } from '../flow/index.js';
import type { Loader } from '../hooks/data.js';
import { addon, command, inject } from '../hooks/decorators.js';
import type { HookTable } from '../hooks/dispatcher.js';
import { OptionsError } from '../kernel/errors.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Logger } from '../kernel/log.js';
import { KERNEL, LOG } from '../kernel/tokens.js';
import { ClientConnection, type ProxyRuntime } from './connection.js';
import { buildConfig, type RuntimeConfig } from './config.js';
import { FdPressure } from './fdlimit.js';
import { listenAddress, modeDescription, type ProxyMode } from './modes.js';
import { DnsUdpListener } from './modes/dns.js';
import { LISTENER_SETUP, listensOnUdp, MODE_HANDLERS, modeRefusal } from './modes/index.js';
import { nodeTlsVersion, PROXY_OPTIONS } from './options.js';
import { CLIENT_REPLAY, ClientReplayer } from './replay.js';
import { CloseCode } from './websocket/errors.js';
import { injectWebSocket, type LiveWebSockets } from './websocket/layer.js';

/** A listening proxy server. */
export interface ListenAddress {
  readonly mode: string;
  readonly host: string;
  readonly port: number;
}

const CERT_OPTIONS = new Set([
  'confdir',
  'certs',
  'cert_passphrase',
  'key_size',
  'leaf_key',
  'tls_version_client_min',
  'tls_version_client_max',
  'ciphers_client',
  'tls_ecdh_curve_client',
]);
const LISTEN_OPTIONS = new Set(['mode', 'listen_host', 'listen_port', 'server']);

/**
 * The proxy runtime as a built-in addon (mitmproxy's proxyserver + tlsconfig): declares the
 * runtime's options, starts one listener per `mode` when the kernel runs, and hands each
 * connection to the layers. Policy lives in hooks; this is mechanics.
 */
@addon({ name: 'proxyserver', order: 'pre' })
export class ProxyServer implements ProxyRuntime {
  config!: RuntimeConfig;
  certs!: CertStore;
  caCertPath = '';
  private servers: Array<{ server: net.Server; address: ListenAddress; udp: DnsUdpListener | null }> = [];
  private readonly connections = new Set<ClientConnection>();
  readonly webSockets: LiveWebSockets = new Map();
  private certsDirty = true;
  private isRunning = false;
  private fdPressure: FdPressure | undefined;

  /** Out-of-descriptors reporting while listening (libuv refuses clients silently then). */
  private get fds(): FdPressure {
    return (this.fdPressure ??= new FdPressure(this.log));
  }

  constructor(
    @inject(KERNEL) private readonly kernel: Kernel,
    @inject(LOG) readonly log: Logger,
  ) {
    // Addons added after the runtime get client replay by injection (`@inject(CLIENT_REPLAY)`).
    kernel.container.registerInstance(CLIENT_REPLAY, new ClientReplayer(this));
  }

  get hooks(): HookTable {
    return this.kernel.addons.table;
  }

  /** Where the servers listen (after `running`). */
  get addresses(): readonly ListenAddress[] {
    return this.servers.map((s) => s.address);
  }

  /** Every flow the runtime creates goes to the kernel's flow store (`kernel.flows.onAdd` to watch). */
  track(flow: Flow): void {
    this.kernel.flows.add(flow);
  }

  opened(conn: ClientConnection): void {
    this.connections.add(conn);
  }

  closed(conn: ClientConnection): void {
    this.connections.delete(conn);
  }

  load(loader: Loader): void {
    for (const o of PROXY_OPTIONS) loader.addOption(o);
  }

  configure(updated: ReadonlySet<string>): void {
    const cfg = buildConfig(this.kernel.options);
    for (const m of cfg.modes) {
      const refused = modeRefusal(m);
      if (refused !== null) throw new OptionsError(refused);
      if (!MODE_HANDLERS[m.type]) {
        throw new OptionsError(
          `Proxy mode ${m.fullSpec} is not supported by mitmts yet (supported: ${Object.keys(MODE_HANDLERS).join(', ')}).`,
        );
      }
    }
    this.config = cfg;
    if ([...updated].some((n) => CERT_OPTIONS.has(n))) this.certsDirty = true;
    if (this.isRunning && [...updated].some((n) => LISTEN_OPTIONS.has(n) || CERT_OPTIONS.has(n))) {
      void this.kernel.track(
        this.restart().catch((err: unknown) =>
          this.log.error(`Cannot restart the proxy servers: ${(err as Error).message}`),
        ),
      );
    }
  }

  async running(): Promise<void> {
    this.isRunning = true;
    try {
      await this.loadCerts();
      if (this.kernel.options.get<boolean>('server')) {
        await this.listen();
        this.warmUp();
      }
    } catch (err) {
      // Without its listeners the proxy is useless: say why and ask to stop (exit code 1).
      this.log.error((err as Error).message);
      this.kernel.requestShutdown(1);
    }
  }

  async done(): Promise<void> {
    this.isRunning = false;
    await this.stop();
  }

  @command('proxyserver.active_connections', {
    help: 'The number of client connections open right now.',
    returns: 'int',
  })
  activeConnections(): number {
    return this.connections.size;
  }

  @command('inject.websocket', {
    args: [
      'flow',
      { name: 'to_client', type: 'bool' },
      { name: 'message', type: 'bytes' },
      { name: 'is_text', type: 'bool', optional: true },
    ],
    help: 'Inject a WebSocket message into a live WebSocket flow: to the client if to_client is true, else to the server; a text message unless is_text is false. It is recorded with `injected` set, passes the websocket_message hook like any message, and goes out uncompressed at the next message boundary of that direction. A flow that is not a live WebSocket connection gets a warning.',
  })
  injectWebSocket(flow: Flow, toClient: boolean, message: Buffer, isText?: boolean): void {
    const why = injectWebSocket(this.webSockets, flow, toClient, message, isText ?? true);
    if (why !== null) this.log.warn(why);
  }

  private async loadCerts(): Promise<void> {
    if (!this.certsDirty && this.certs) return;
    const o = this.kernel.options;
    const confdir = o.get<string>('confdir');
    const min = nodeTlsVersion(o.get<string>('tls_version_client_min'));
    const max = nodeTlsVersion(o.get<string>('tls_version_client_max'));
    const ciphers = o.get<string | null>('ciphers_client');
    const curve = o.get<string | null>('tls_ecdh_curve_client');
    const store = await CertStore.fromConfdir(confdir, {
      keySize: o.get<number>('key_size'),
      passphrase: o.get<string | null>('cert_passphrase'),
      leafKey: o.get<string>('leaf_key') as LeafKeyType,
      log: (level, msg) => this.log.log(level, msg),
      secureContextOptions: {
        ...(min ? { minVersion: min } : {}),
        ...(max ? { maxVersion: max } : {}),
        ...(ciphers ? { ciphers } : {}),
        ...(curve ? { ecdhCurve: curve } : {}),
      },
    });
    for (const spec of o.get<readonly string[]>('certs')) await store.addCertFromSpec(spec);
    this.certs = store;
    this.caCertPath = caPaths(confdir, 'mitmproxy').caCertPem;
    this.certsDirty = false;
  }

  /**
   * Right after the listeners are up, do the one-time work of the first TLS interception (see
   * CertStore.warmUp), so that the first client does not wait for it. A full TLS handshake in
   * memory would warm up ~2 ms more of the first interception, but costs 0.4 MiB of idle RSS.
   */
  private warmUp(): void {
    const certs = this.certs;
    setImmediate(() => certs.warmUp());
  }

  private async listen(): Promise<void> {
    const cfg = this.config;
    for (const mode of cfg.modes) {
      const { host, port } = listenAddress(mode, cfg.listenHost, cfg.listenPort);
      const server = net.createServer({ noDelay: true, pauseOnConnect: true }, (socket) => this.accept(socket, mode));
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) => {
          reject(
            new OptionsError(
              err.code === 'EADDRINUSE'
                ? `Cannot listen on ${host || '*'}:${port} for mode ${mode.fullSpec}: the address is already in use. Stop the other program or choose another port (-p, or MODE@PORT).`
                : `Cannot listen on ${host || '*'}:${port} for mode ${mode.fullSpec}: ${err.message}`,
            ),
          );
        });
        server.listen({ port: port ?? 8080, ...(host ? { host } : {}) }, () => resolve());
      });
      server.on('error', (err: NodeJS.ErrnoException) => {
        if (!this.fds.report(err)) this.log.error(`Proxy server error (${mode.fullSpec}): ${err.message}`);
      });
      const a = server.address() as net.AddressInfo;
      const address: ListenAddress = { mode: mode.fullSpec, host: host || '*', port: a.port };
      const entry = { server, address, udp: null as DnsUdpListener | null };
      this.servers.push(entry);
      LISTENER_SETUP[mode.type]?.(server, mode.fullSpec, this.log);
      if (listensOnUdp(mode))
        entry.udp = await DnsUdpListener.listen(this, mode, host, a.port).catch((err: Error) =>
          Promise.reject(new OptionsError(err.message)),
        );
      this.log.info(
        `${modeDescription(mode)} listening at ${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}.`,
      );
    }
    this.fds.start();
  }

  private accept(socket: net.Socket, mode: ProxyMode): void {
    const conn = new ClientConnection(this, socket, mode);
    conn.start(MODE_HANDLERS[mode.type]!).catch((err: unknown) => {
      this.log.error(`${conn.describe()}: internal error: ${(err as Error)?.stack ?? String(err)}`);
      socket.destroy();
    });
  }

  private async stop(): Promise<void> {
    const servers = this.servers;
    this.servers = [];
    this.fds.stop();
    // WebSocket peers get a close frame (1001) and their flows end (websocket_end) before the sockets go.
    for (const relay of this.webSockets.values()) relay.close(CloseCode.GOING_AWAY, 'proxy shutting down');
    for (const c of this.connections) c.destroy();
    await Promise.all(
      servers.map(({ server, udp }) =>
        Promise.all([new Promise<void>((resolve) => server.close(() => resolve())), udp?.close()]),
      ),
    );
  }

  private async restart(): Promise<void> {
    await this.stop();
    await this.loadCerts();
    if (this.kernel.options.get<boolean>('server')) {
      await this.listen();
      this.warmUp();
    }
  }
}
