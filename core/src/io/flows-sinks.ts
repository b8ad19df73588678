/**
 * What `mitmts flows` does with each matching flow: print it (`FlowList`), print each distinct
 * request once with a count (`DedupList`), count it (`Summary`), or add it to its endpoint group
 * (`Groups`, with `--schema` the body shapes too). All print through one bounded
 * {@link RecordOutput}.
 */
import { createHash } from 'node:crypto';
import type { AnyFlow } from '../flow/from-state.js';
import type { HTTPFlow } from '../flow/http-flow.js';
import type { FlowFields, FlowJsonOptions } from './flow-json.js';
import { SummaryCounter } from './flow-summary.js';
import { bodySamples } from './recon/body.js';
import { EndpointGroups } from './recon/endpoints.js';
import type { JsonObject } from './recon/json.js';
import type { RecordOutput } from './recon/output.js';

/**
 * A consumer of matching flows. `add` is false (or resolves to false) when output should stop
 * (the pipe closed); synchronous while nothing has to wait, so a flow costs no promise.
 */
export interface FlowSink {
  add(flow: AnyFlow, file: string): Promise<boolean> | boolean;
  /** After the last flow (also after a read error: what was gathered is printed). */
  finish(): Promise<void>;
}

/** One line per flow. */
export class FlowList implements FlowSink {
  constructor(
    private readonly out: RecordOutput,
    private readonly fields: FlowFields,
    private readonly options: FlowJsonOptions,
  ) {}

  add(flow: AnyFlow, file: string): Promise<boolean> | boolean {
    if (this.out.exhausted) {
      this.out.skip();
      return true;
    }
    return this.out.record(this.fields.extract(flow, { ...this.options, file }));
  }

  finish(): Promise<void> {
    return this.out.finish();
  }
}

/** The identity of a request for `--dedup`: method, URL and a hash of the body. */
function requestKey(f: AnyFlow): string {
  if (f.type !== 'http') return `${f.type} ${f.id}`;
  const r = f.request;
  const body = r.rawContent;
  const hash = body === null || body.length === 0 ? '' : createHash('sha1').update(body).digest('base64');
  return `${r.method} ${r.prettyUrl} ${hash}`;
}

/** One line per distinct request, in first-seen order, with `count`. */
export class DedupList implements FlowSink {
  private readonly seen = new Map<string, { line: JsonObject | null; count: number }>();

  constructor(
    private readonly out: RecordOutput,
    private readonly fields: FlowFields,
    private readonly options: FlowJsonOptions,
  ) {}

  add(flow: AnyFlow, file: string): boolean {
    const key = requestKey(flow);
    const hit = this.seen.get(key);
    if (hit !== undefined) hit.count++;
    else this.seen.set(key, { line: this.fields.extract(flow, { ...this.options, file }), count: 1 });
    return true;
  }

  async finish(): Promise<void> {
    for (const { line, count } of this.seen.values()) {
      if (!(await this.out.record({ ...line, count }))) return;
    }
    await this.out.finish();
  }
}

/** `--summary`: one line of counts. */
export class Summary implements FlowSink {
  private readonly counter = new SummaryCounter();
  constructor(private readonly out: RecordOutput) {}

  add(flow: AnyFlow): boolean {
    this.counter.add(flow);
    return true;
  }

  async finish(): Promise<void> {
    await this.out.record(this.counter.result() as unknown as JsonObject);
    await this.out.finish();
  }
}

/** `--group endpoint` (and `--schema`): one line per endpoint, most flows first. */
export class Groups implements FlowSink {
  private readonly groups = new EndpointGroups();
  private readonly others = new Map<string, number>();

  constructor(
    private readonly out: RecordOutput,
    private readonly fields: FlowFields,
    private readonly options: FlowJsonOptions,
    private readonly schema: boolean,
  ) {}

  add(flow: AnyFlow, file: string): boolean {
    if (flow.type !== 'http') {
      this.others.set(flow.type, (this.others.get(flow.type) ?? 0) + 1);
      return true;
    }
    const g = this.groups.groupOf(flow);
    g.add(flow, (f: HTTPFlow) => this.fields.extract(f, { ...this.options, file }));
    if (this.schema) {
      const req = bodySamples(flow.request);
      if (req.json !== undefined) g.requestShape.add(req.json);
      const status = flow.response?.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        const resp = bodySamples(flow.response!);
        if (resp.json !== undefined) g.responseShape.add(resp.json);
        if (resp.events !== undefined) for (const [event, data] of resp.events) g.eventShape(event).add(data);
      } else if (status >= 400) {
        const resp = bodySamples(flow.response!);
        if (resp.json !== undefined) g.errorShape.add(resp.json);
      }
    }
    return true;
  }

  async finish(): Promise<void> {
    for (const g of this.groups.sorted()) {
      if (!(await this.out.record(g.toJson(this.schema)))) return;
    }
    if (this.others.size > 0) await this.out.record({ other_flows: Object.fromEntries(this.others) });
    await this.out.finish();
  }
}
