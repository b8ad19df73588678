import { addon, inject, LOG, option, readReplacement, type AddonHooks, type Headers, type HTTPFlow, type Logger } from '@mitmts/sdk';
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

  async request(flow: HTTPFlow): Promise<void> {
    if (flow.response || flow.error || !flow.live) return;
    await this.run(flow, flow.request.headers);
  }

  async response(flow: HTTPFlow): Promise<void> {
    if (flow.error || !flow.live || !flow.response) return;
    await this.run(flow, flow.response.headers);
  }

  private async run(flow: HTTPFlow, headers: Headers): Promise<void> {
    if (this.specs.length === 0) return;
    // Filters see the unmodified flow; then every matching name is removed before any is set,
    // so several rules for one name add several headers.
    const matching = this.specs.filter((s) => s.matches(flow));
    for (const spec of matching) headers.delete(spec.name);
    for (const spec of matching) {
      const value = await this.value(spec);
      if (value && value.length > 0) headers.add(spec.name, value);
    }
  }

  private async value(spec: ModifyHeadersSpec): Promise<Buffer | null> {
    if (spec.value.file === null) return spec.value.bytes;
    let bytes: Buffer;
    try {
      bytes = fileValue(await readReplacement(spec.value));
    } catch (err) {
      this.log.warn(`modify_headers: could not read replacement file: ${(err as Error).message}`);
      return null;
    }
    const why = badValue(bytes);
    if (why) {
      this.log.warn(`modify_headers: ${spec.value.file} cannot be used as the value of ${spec.name.toString('latin1')}: ${why}; rule ${spec.spec} skipped.`);
      return null;
    }
    return bytes;
  }
}
