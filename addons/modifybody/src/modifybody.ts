import {
  addon,
  compilePyTemplate,
  inject,
  LOG,
  option,
  OPTIONS,
  pySub,
  readReplacement,
  type AddonHooks,
  type HookResult,
  type HTTPFlow,
  type Logger,
  type OptionsManager,
  type PyTemplate,
} from '@mitmts/sdk';
import { parseModifyBodySpec, type ModifyBodySpec } from './spec.js';

/**
 * Regex-replaces request and response bodies (mitmproxy's `modify_body`): in `request` the
 * request body of matching flows, in `response` the response body (a `~q`/`~s` filter picks
 * one side, as in mitmproxy). Bodies are decoded (gzip, ...) before and re-encoded after.
 */
@addon({ name: 'modifybody', description: 'Regex-replace request and response bodies.' })
export class ModifyBody implements AddonHooks {
  @option({
    name: 'modify_body',
    type: 'str[]',
    default: [],
    help:
      'Replacement pattern of the form "[/flow-filter]/regex/[@]replacement", where the separator can be any character. ' +
      'The @ allows to provide a file path that is used to read the replacement string.',
  })
  modifyBody!: readonly string[];

  private specs: readonly ModifyBodySpec[] = [];

  constructor(
    @inject(LOG) private readonly log: Logger,
    @inject(OPTIONS) private readonly options: OptionsManager,
  ) {}

  configure(updated: ReadonlySet<string>): void {
    if (updated.has('modify_body')) {
      // Parse everything first: one bad spec rejects the update and the old rules stay.
      this.specs = this.modifyBody.map(parseModifyBodySpec);
    }
    const streaming = this.options.has('stream_large_bodies')
      ? this.options.get<string | null>('stream_large_bodies')
      : null;
    if (this.specs.length > 0 && streaming && (updated.has('modify_body') || updated.has('stream_large_bodies'))) {
      this.log.alert('Both modify_body and stream_large_bodies are active. Streamed bodies will not be modified.');
    }
  }

  request(flow: HTTPFlow): HookResult {
    if (flow.response || flow.error || !flow.live || this.specs.length === 0) return;
    return this.run(flow, 0);
  }

  response(flow: HTTPFlow): HookResult {
    if (flow.error || !flow.live || this.specs.length === 0) return;
    return this.run(flow, 0);
  }

  /**
   * Apply the rules from `from` on, in order. Stays synchronous (no promise) until a rule with
   * an `@file` replacement matches; the rest then runs after the file is read.
   */
  private run(flow: HTTPFlow, from: number): HookResult {
    for (let i = from; i < this.specs.length; i++) {
      const spec = this.specs[i]!;
      if (!spec.matches(flow)) continue;
      if (spec.template) {
        if (!this.apply(flow, spec, spec.template)) return;
        continue;
      }
      return this.fileTemplate(spec).then((t) => {
        if (t && !this.apply(flow, spec, t)) return;
        return this.run(flow, i + 1);
      });
    }
  }

  /** Replace in the current side's body; false if the body cannot be decoded (stop). */
  private apply(flow: HTTPFlow, spec: ModifyBodySpec, template: PyTemplate): boolean {
    const message = flow.response ?? flow.request;
    let content: Buffer | null;
    try {
      content = message.content;
    } catch (err) {
      this.log.warn(
        `modify_body: cannot decode the ${flow.response ? 'response' : 'request'} body of ${flow.request.url}: ${(err as Error).message}`,
      );
      return false;
    }
    if (content === null) return true;
    const before = content.toString('latin1');
    const after = pySub(spec.regex, template, before);
    if (after !== before) message.content = Buffer.from(after, 'latin1');
    return true;
  }

  /** An `@file` rule's template: the file is read and parsed on every use. */
  private async fileTemplate(spec: ModifyBodySpec): Promise<PyTemplate | null> {
    let bytes: Buffer;
    try {
      bytes = await readReplacement(spec.replacement);
    } catch (err) {
      this.log.warn(`modify_body: could not read replacement file: ${(err as Error).message}`);
      return null;
    }
    try {
      return compilePyTemplate(bytes.toString('latin1'), spec.regex);
    } catch (err) {
      this.log.warn(
        `modify_body: replacement file ${spec.replacement.file} is not a valid replacement template (${(err as Error).message}); rule ${spec.spec} skipped.`,
      );
      return null;
    }
  }
}
