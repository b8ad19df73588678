import type { BasicTracerProvider, ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Tracer } from '@opentelemetry/api';
import {
  addon,
  command,
  type Filter,
  filterOption,
  type HTTPFlow,
  inject,
  LOG,
  type Logger,
  option,
  OptionsError,
} from '@mitmts/sdk';
import { flowToSpan } from './span.js';

const OPTIONS = ['otel_endpoint', 'otel_service_name', 'otel_headers', 'otel_filter'];

interface Exporting {
  readonly provider: BasicTracerProvider;
  readonly tracer: Tracer;
  readonly filter: Filter | null;
  /** SpanKind.CLIENT and SpanStatusCode.ERROR, from the API module loaded with the SDK. */
  readonly client: number;
  readonly errorCode: number;
}

/** `name=value` pairs as headers; throws OptionsError naming the bad one. */
export function parseHeaders(specs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of specs) {
    const i = s.indexOf('=');
    if (i <= 0)
      throw new OptionsError(
        `Option otel_headers: ${JSON.stringify(s)} is not name=value (e.g. authorization=Bearer xyz).`,
      );
    out[s.slice(0, i).trim()] = s.slice(i + 1).trim();
  }
  return out;
}

/**
 * Export one OpenTelemetry CLIENT span per HTTP flow (when it completes) to an OTLP/HTTP
 * collector, with the stable HTTP semantic-convention attributes; bodies never leave mitmts.
 * The official SDK batches spans (BatchSpanProcessor: a bounded queue, dropping when full)
 * and exports OTLP/HTTP JSON. Opt-in: not in the default build.
 */
@addon({ name: 'otel', description: 'Export flows as OpenTelemetry spans.' })
export class OTelSink {
  @option({
    type: 'str?',
    default: null,
    help: 'OTLP/HTTP traces endpoint, e.g. http://localhost:4318/v1/traces: export one span per HTTP flow there.',
  })
  otel_endpoint!: string | null;

  @option({ type: 'str', default: 'mitmts', help: 'The service.name of the exported spans.' })
  otel_service_name!: string;

  @option({
    type: 'str[]',
    default: [],
    help: 'Extra HTTP headers for the collector, as name=value (e.g. authorization=Bearer xyz).',
  })
  otel_headers!: readonly string[];

  @option({ type: 'str?', default: null, help: 'Only export flows matching this filter.' })
  otel_filter!: string | null;

  private exporting: Exporting | null = null;
  private exported = 0;
  private lost = 0;
  private lastError: string | null = null;

  constructor(@inject(LOG) private readonly log: Logger) {}

  configure(updated: ReadonlySet<string>): void | Promise<void> {
    if (!OPTIONS.some((o) => updated.has(o))) return;
    const headers = parseHeaders(this.otel_headers);
    const filter = filterOption('otel_filter', this.otel_filter);
    if (this.otel_endpoint !== null) {
      try {
        new URL(this.otel_endpoint);
      } catch {
        throw new OptionsError(
          `Option otel_endpoint: ${JSON.stringify(this.otel_endpoint)} is not a URL (e.g. http://localhost:4318/v1/traces).`,
        );
      }
    }
    return this.restart(headers, filter);
  }

  async done(): Promise<void> {
    await this.stop();
  }

  @command('otel.status', {
    help: 'Where spans go, how many were exported, how many were lost in failed exports.',
    returns: 'str',
  })
  status(): string {
    if (!this.exporting) return 'off (option otel_endpoint is not set)';
    return `exporting to ${this.otel_endpoint}: ${this.exported} spans exported, ${this.lost} lost${this.lastError ? `, last error: ${this.lastError}` : ''}`;
  }

  @command('otel.flush', {
    help: 'Export the spans waiting in the batch now (a failed export is counted in otel.status).',
  })
  async flush(): Promise<void> {
    await this.exporting?.provider.forceFlush().catch(() => undefined);
  }

  response(flow: HTTPFlow): void {
    if (!flow.websocket) this.export(flow);
  }
  error(flow: HTTPFlow): void {
    this.export(flow);
  }
  websocket_end(flow: HTTPFlow): void {
    this.export(flow);
  }

  private export(flow: HTTPFlow): void {
    const e = this.exporting;
    if (!e || (e.filter && !e.filter.match(flow))) return;
    const s = flowToSpan(flow);
    const span = e.tracer.startSpan(s.name, { kind: e.client, startTime: s.startTime, attributes: s.attributes });
    if (s.error !== null) span.setStatus({ code: e.errorCode, message: s.error });
    span.end(s.endTime);
  }

  private async restart(headers: Record<string, string>, filter: Filter | null): Promise<void> {
    await this.stop();
    const url = this.otel_endpoint;
    if (!url) return;
    const [api, sdk, resources, otlp] = await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/exporter-trace-otlp-http'),
    ]);
    const exporter = this.observed(new otlp.OTLPTraceExporter({ url, headers }), url);
    const provider = new sdk.BasicTracerProvider({
      resource: resources.resourceFromAttributes({ 'service.name': this.otel_service_name }),
      spanProcessors: [new sdk.BatchSpanProcessor(exporter)],
    });
    this.exporting = {
      provider,
      tracer: provider.getTracer('mitmts'),
      filter,
      client: api.SpanKind.CLIENT,
      errorCode: api.SpanStatusCode.ERROR,
    };
    this.log.info(`Exporting flows as OpenTelemetry spans to ${url}.`);
  }

  /** The exporter, counting what it exported and reporting failed exports (the SDK says nothing). */
  private observed(inner: SpanExporter, url: string): SpanExporter {
    return {
      export: (spans: ReadableSpan[], done) =>
        inner.export(spans, (result) => {
          if (result.code === 0) {
            this.exported += spans.length;
            this.lastError = null;
          } else {
            this.lost += spans.length;
            const first = this.lastError === null;
            this.lastError = result.error?.message ?? 'export failed';
            if (first)
              this.log.warn(
                `OpenTelemetry collector at ${url}: ${this.lastError} (${spans.length} spans lost; see otel.status)`,
              );
          }
          done(result);
        }),
      shutdown: () => inner.shutdown(),
      forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
    };
  }

  private async stop(): Promise<void> {
    const e = this.exporting;
    this.exporting = null;
    if (!e) return;
    try {
      await e.provider.shutdown();
    } catch (err) {
      this.log.warn(`OpenTelemetry: spans not exported at shutdown: ${(err as Error).message}`);
    }
  }
}
