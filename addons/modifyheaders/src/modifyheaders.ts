import {
  addon,
  inject,
  LOG,
  option,
  readReplacement,
  type AddonHooks,
  type HTTPHeaders,
  type HookResult,
  type HTTPFlow,
  type Logger,
} from '@mitmts/sdk';
import { badValue, fileValue, parseModifyHeadersSpec, type ModifyHeadersSpec } from './spec.js';

/**
 * Sets or removes headers on matching flows (mitmproxy's `modify_headers`): request headers in
 * `request`, response headers in `response`. A `~q`/`~s` filter picks one side.
 */
@addon({ name: 'modifyheaders', description: 'Set or remove headers on matching flows.' })
export class ModifyHeaders implements AddonHooks {
  @option({
    name: 'modify_headers',
    type: 'str[]',
    default: [],
    help:
      'Header modify pattern of the form "[/flow-filter]/header-name/[@]header-value", where the separator can be any character. ' +
      'The @ allows to provide a file path that is used to read the header value string. ' +
      'An empty header-value removes existing header-name headers.',
  })
  modifyHeaders!: readonly string[];

  private specs: readonly ModifyHeadersSpec[] = [];

  constructor(@inject(LOG) private readonly log: Logger) {}

  configure(updated: ReadonlySet<string>): void {
    if (!updated.has('modify_headers')) return;
    // Parse everything first: one bad spec rejects the update and the old rules stay.
    this.specs = this.modifyHeaders.map(parseModifyHeadersSpec);
  }

  request(flow: HTTPFlow): HookResult {
    if (flow.response || flow.error || !flow.live || this.specs.length === 0) return;
    return this.run(flow, flow.request.headers);
  }

  response(flow: HTTPFlow): HookResult {
    if (flow.error || !flow.live || !flow.response || this.specs.length === 0) return;
    return this.run(flow, flow.response.headers);
  }

  private run(flow: HTTPFlow, headers: HTTPHeaders): HookResult {
    // Filters see the unmodified flow; then every matching name is removed before any is set,
    // so several rules for one name add several headers.
    const matching = this.specs.filter((s) => s.matches(flow));
    if (matching.length === 0) return;
    for (const spec of matching) headers.delete(spec.name);
    return this.add(headers, matching, 0);
  }

  /** Add the values from `from` on; synchronous until an `@file` value has to be read. */
  private add(headers: HTTPHeaders, specs: readonly ModifyHeadersSpec[], from: number): HookResult {
    for (let i = from; i < specs.length; i++) {
      const spec = specs[i]!;
      if (spec.value.file === null) {
        if (spec.value.bytes.length > 0) headers.add(spec.name, spec.value.bytes);
        continue;
      }
      return this.readValue(spec).then((v) => {
        if (v && v.length > 0) headers.add(spec.name, v);
        return this.add(headers, specs, i + 1);
      });
    }
  }

  /** An `@file` rule's value, read on every use; null (after a warning) if it cannot be used. */
  private async readValue(spec: ModifyHeadersSpec): Promise<Buffer | null> {
    let bytes: Buffer;
    try {
      bytes = fileValue(await readReplacement(spec.value));
    } catch (err) {
      this.log.warn(`modify_headers: could not read replacement file: ${(err as Error).message}`);
      return null;
    }
    const why = badValue(bytes);
    if (why) {
      this.log.warn(
        `modify_headers: ${spec.value.file} cannot be used as the value of ${spec.name.toString('latin1')}: ${why}; rule ${spec.spec} skipped.`,
      );
      return null;
    }
    return bytes;
  }
}
