import type { ClickHouseClient } from '@clickhouse/client';
import {
  addon,
  command,
  type DNSFlow,
  type Filter,
  filterOption,
  type Flow,
  type HTTPFlow,
  inject,
  LOG,
  type Logger,
  option,
  OptionsError,
  parseSize,
  type TCPFlow,
  type UDPFlow,
} from '@mitmts/sdk';
import { BatchQueue } from './queue.js';
import { type ClickHouseRow, DEFAULT_INSTANCE, flowToRow, type RowOptions, tableDdl } from './row.js';

const OPTIONS = [
  'clickhouse_url',
  'clickhouse_database',
  'clickhouse_table',
  'clickhouse_user',
  'clickhouse_password',
  'clickhouse_create',
  'clickhouse_bodies',
  'clickhouse_body_max',
  'clickhouse_batch',
  'clickhouse_flush_ms',
  'clickhouse_queue',
  'clickhouse_filter',
  'clickhouse_instance',
];
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** How long `done` waits for the queue to drain. */
const CLOSE_TIMEOUT_MS = 5000;

interface Connection {
  readonly client: ClickHouseClient;
  readonly queue: BatchQueue<ClickHouseRow>;
  readonly rows: RowOptions;
  readonly filter: Filter | null;
}

/**
 * Stream one row per completed flow into a ClickHouse table over its HTTP interface (the
 * official client, `INSERT ... FORMAT JSONEachRow`): batched, retried with backoff, through a
 * bounded queue that drops (and counts) the oldest rows while the server is unreachable, so
 * the proxy never waits for it. Several mitmts instances can write into one table
 * (`clickhouse_instance` tells them apart). Opt-in: not in the default build.
 */
@addon({ name: 'clickhouse', description: 'Stream flows into ClickHouse.' })
export class ClickHouseSink {
  @option({
    type: 'str?',
    default: null,
    help: 'ClickHouse HTTP(S) URL, e.g. http://localhost:8123: send one row per flow there.',
  })
  clickhouse_url!: string | null;

  @option({ type: 'str', default: 'default', help: 'The ClickHouse database.' })
  clickhouse_database!: string;

  @option({ type: 'str', default: 'mitmts_flows', help: 'The table rows go into.' })
  clickhouse_table!: string;

  @option({ type: 'str', default: 'default', help: 'ClickHouse user.' })
  clickhouse_user!: string;

  @option({ type: 'str', default: '', help: 'ClickHouse password.' })
  clickhouse_password!: string;

  @option({ type: 'bool', default: true, help: 'Create the table (CREATE TABLE IF NOT EXISTS) when connecting.' })
  clickhouse_create!: boolean;

  @option({
    type: 'bool',
    default: false,
    help: 'Include request and response bodies (decoded, as UTF-8 text), at most clickhouse_body_max bytes each.',
  })
  clickhouse_bodies!: boolean;

  @option({ type: 'str', default: '4k', help: 'The most bytes of each body sent, with clickhouse_bodies.' })
  clickhouse_body_max!: string;

  @option({ type: 'int', default: 1000, help: 'Rows per INSERT.' })
  clickhouse_batch!: number;

  @option({ type: 'int', default: 1000, help: 'Send a partial batch after this many milliseconds.' })
  clickhouse_flush_ms!: number;

  @option({
    type: 'int',
    default: 100000,
    help: 'The most rows waiting while ClickHouse is slow or down; beyond it the oldest are dropped (counted in clickhouse.status).',
  })
  clickhouse_queue!: number;

  @option({ type: 'str?', default: null, help: 'Only send flows matching this filter.' })
  clickhouse_filter!: string | null;

  @option({
    type: 'str',
    default: DEFAULT_INSTANCE,
    help: "This instance's name in the rows (default: the host name).",
  })
  clickhouse_instance!: string;

  private conn: Connection | null = null;

  constructor(@inject(LOG) private readonly log: Logger) {}

  configure(updated: ReadonlySet<string>): void | Promise<void> {
    if (!OPTIONS.some((o) => updated.has(o))) return;
    for (const name of ['clickhouse_database', 'clickhouse_table'] as const) {
      if (!IDENTIFIER.test(this[name]))
        throw new OptionsError(
          `Option ${name}: ${JSON.stringify(this[name])} is not a plain identifier (letters, digits, _).`,
        );
    }
    for (const name of ['clickhouse_batch', 'clickhouse_flush_ms', 'clickhouse_queue'] as const) {
      if (!(this[name] > 0)) throw new OptionsError(`Option ${name} must be a positive number, got ${this[name]}.`);
    }
    const bodyMax = parseSize('clickhouse_body_max', this.clickhouse_body_max)!;
    const filter = filterOption('clickhouse_filter', this.clickhouse_filter);
    if (this.clickhouse_url !== null) {
      try {
        new URL(this.clickhouse_url);
      } catch {
        throw new OptionsError(
          `Option clickhouse_url: ${JSON.stringify(this.clickhouse_url)} is not a URL (e.g. http://localhost:8123).`,
        );
      }
    }
    return this.reconnect({ bodies: this.clickhouse_bodies, bodyMax, instance: this.clickhouse_instance }, filter);
  }

  async done(): Promise<void> {
    await this.disconnect();
  }

  @command('clickhouse.status', { help: 'Rows queued, sent, dropped, retries, and the last error.', returns: 'str' })
  status(): string {
    if (!this.conn) return 'off (option clickhouse_url is not set)';
    const s = this.conn.queue.stats;
    return `sending to ${this.clickhouse_url} ${this.clickhouse_database}.${this.clickhouse_table}: ${s.sent} rows in ${s.batches} inserts, ${s.queued} queued, ${s.dropped} dropped, ${s.retries} retries${s.lastError ? `, last error: ${s.lastError}` : ''}`;
  }

  // A flow is sent once, when it is complete.
  response(flow: HTTPFlow): void {
    if (!flow.websocket) this.add(flow);
  }
  error(flow: HTTPFlow): void {
    this.add(flow);
  }
  websocket_end(flow: HTTPFlow): void {
    this.add(flow);
  }
  tcp_end(flow: TCPFlow): void {
    this.add(flow);
  }
  tcp_error(flow: TCPFlow): void {
    this.add(flow);
  }
  udp_end(flow: UDPFlow): void {
    this.add(flow);
  }
  udp_error(flow: UDPFlow): void {
    this.add(flow);
  }
  dns_response(flow: DNSFlow): void {
    this.add(flow);
  }
  dns_error(flow: DNSFlow): void {
    this.add(flow);
  }

  private add(flow: Flow): void {
    const c = this.conn;
    if (!c || (c.filter && !c.filter.match(flow))) return;
    c.queue.push(flowToRow(flow, c.rows));
  }

  private async reconnect(rows: RowOptions, filter: Filter | null): Promise<void> {
    await this.disconnect();
    const url = this.clickhouse_url;
    if (!url) return;
    const { createClient, ClickHouseLogLevel } = await import('@clickhouse/client');
    // The client's own logger is off: failures are reported here, once, through the proxy's log.
    const client = createClient({
      url,
      database: this.clickhouse_database,
      username: this.clickhouse_user,
      password: this.clickhouse_password,
      log: { level: ClickHouseLogLevel.OFF },
    });
    const table = this.clickhouse_table;
    let created = !this.clickhouse_create;
    const send = async (values: ClickHouseRow[]): Promise<void> => {
      // Created with the first batch (and retried with it), so a server that is down at start-up is no start-up error.
      if (!created) {
        await client.command({ query: tableDdl(table) });
        created = true;
      }
      await client.insert({ table, values, format: 'JSONEachRow' });
    };
    const queue = new BatchQueue<ClickHouseRow>(
      send,
      { batch: this.clickhouse_batch, flushMs: this.clickhouse_flush_ms, max: this.clickhouse_queue },
      (err, attempt, retryInMs) => {
        // The first failure, then every tenth: a server that stays down must not flood the log.
        if (attempt === 1 || attempt % 10 === 0)
          this.log.warn(
            `ClickHouse at ${url}: ${err.message} (attempt ${attempt}; retrying in ${retryInMs} ms; ${queue.stats.queued} rows queued, ${queue.stats.dropped} dropped)`,
          );
      },
    );
    this.conn = { client, queue, rows, filter };
    this.log.info(`Sending flows to ClickHouse at ${url} (${this.clickhouse_database}.${table}).`);
  }

  private async disconnect(): Promise<void> {
    const c = this.conn;
    this.conn = null;
    if (!c) return;
    await c.queue.close(CLOSE_TIMEOUT_MS);
    const s = c.queue.stats;
    if (s.queued > 0 || s.dropped > 0)
      this.log.warn(
        `ClickHouse: ${s.queued} rows not sent at shutdown, ${s.dropped} dropped while the server was unreachable.`,
      );
    await c.client.close();
  }
}
