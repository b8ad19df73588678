import { addon, hook, option, OptionsError, HTTPResponse, type AddonHooks, type HTTPFlow } from '@mitmts/sdk';
import { NO_RESPONSE, parseSpec, type BlockSpec } from './spec.js';

/**
 * Answer requests matching a filter with an empty response of a given status, without asking
 * the server (mitmproxy's `blocklist` addon). Status 444 closes the connection instead.
 * Blocked flows carry `metadata.blocklisted = true`.
 */
@addon({ name: 'blocklist', description: 'Answer matching requests with a fixed status, or close the connection.' })
export class BlockList implements AddonHooks {
  @option({
    type: 'str[]',
    default: [],
    help:
      'Block matching requests and return an empty response with the specified HTTP status. Option syntax is ' +
      '"/flow-filter/status-code", where flow-filter describes which requests this rule should be applied to and ' +
      'status-code is the HTTP status code to return for blocked requests. The separator ("/" in the example) can ' +
      'be any character. Setting a non-standard status code of 444 will close the connection without sending a response.',
  })
  block_list!: readonly string[];

  /**
   * The parsed rules. Every matching rule applies, in order, as in mitmproxy: a later status
   * replaces an earlier one, and a 444 kills the flow for good.
   */
  items: readonly BlockSpec[] = [];

  configure(updated: ReadonlySet<string>): void {
    if (!updated.has('block_list')) return;
    const items: BlockSpec[] = [];
    for (const spec of this.block_list) {
      try {
        items.push(parseSpec(spec));
      } catch (err) {
        throw new OptionsError(`Cannot parse block_list option ${spec}: ${(err as Error).message}`);
      }
    }
    this.items = items;
  }

  @hook('request', { activeWhen: (b: BlockList): boolean => b.items.length > 0 })
  request(flow: HTTPFlow): void {
    if (flow.response || flow.error || !flow.live) return;
    const items = this.items;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (!item.filter(flow)) continue;
      flow.metadata['blocklisted'] = true;
      if (item.statusCode !== NO_RESPONSE) flow.response = HTTPResponse.make(item.statusCode, '', { Server: 'mitmts' });
      else if (flow.killable) flow.kill();
    }
  }
}
