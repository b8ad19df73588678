import { addon, inject, LOG, option, pySub, type AddonHooks, type HTTPFlow, type Logger } from '@mitmts/sdk';
import { parseMapRemoteSpec, type MapRemoteSpec } from './spec.js';

/**
 * Rewrites request URLs by regex (mitmproxy's `map_remote`): the request goes to the new
 * scheme, host, port and path, and an existing Host header follows the new host.
 */
@addon({ name: 'mapremote', description: 'Rewrite request URLs by regex.' })
export class MapRemote implements AddonHooks {
  @option({
    name: 'map_remote',
    type: 'str[]',
    default: [],
    help:
      'Map remote resources to another remote URL using a pattern of the form "[/flow-filter]/url-regex/replacement", ' +
      'where the separator can be any character.',
  })
  mapRemote!: readonly string[];

  private specs: readonly MapRemoteSpec[] = [];

  constructor(@inject(LOG) private readonly log: Logger) {}

  configure(updated: ReadonlySet<string>): void {
    if (!updated.has('map_remote')) return;
    // Parse everything first: one bad spec rejects the update and the old rules stay.
    this.specs = this.mapRemote.map(parseMapRemoteSpec);
  }

  request(flow: HTTPFlow): void {
    if (flow.response || flow.error || !flow.live) return;
    for (const spec of this.specs) {
      if (!spec.matches(flow)) continue;
      const url = flow.request.prettyUrl;
      const next = pySub(spec.regex, spec.template, url);
      // Setting the URL also rewrites the Host header: only do it when the rule changed something.
      if (next === url) continue;
      try {
        flow.request.url = next;
      } catch (err) {
        this.log.warn(
          `map_remote: rule ${spec.spec} turned ${url} into ${next}, which is not a valid URL (${(err as Error).message}); the request is left unchanged.`,
        );
      }
    }
  }
}
