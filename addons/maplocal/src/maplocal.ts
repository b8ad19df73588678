import { readFile, stat } from 'node:fs/promises';
import {
  addon,
  inject,
  LOG,
  option,
  HTTPResponse,
  type AddonHooks,
  type HookResult,
  type HTTPFlow,
  type Logger,
} from '@mitmts/sdk';
import { fileCandidates, findFile } from './files.js';
import { contentTypeFor } from './mime.js';
import { parseMapLocalSpec, type MapLocalSpec } from './spec.js';

function notFound(body: string): HTTPResponse {
  return HTTPResponse.make(404, body + '\n', { 'Content-Type': 'text/plain; charset=utf-8', Server: 'mitmts' });
}

/**
 * Serves local files instead of remote resources (mitmproxy's `map_local`): a request whose URL
 * matches a rule's regex is answered from the rule's file, or from the file its URL maps to
 * under the rule's directory, without contacting the server.
 */
@addon({ name: 'maplocal', description: 'Serve local files and directories for matching URLs.' })
export class MapLocal implements AddonHooks {
  @option({
    name: 'map_local',
    type: 'str[]',
    default: [],
    help:
      'Map remote resources to a local file using a pattern of the form "[/flow-filter]/url-regex/file-or-directory-path", ' +
      'where the separator can be any character.',
  })
  mapLocal!: readonly string[];

  private specs: readonly MapLocalSpec[] = [];

  constructor(@inject(LOG) private readonly log: Logger) {}

  configure(updated: ReadonlySet<string>): void {
    if (!updated.has('map_local')) return;
    // Parse everything first: one bad spec rejects the update and the old rules stay.
    this.specs = this.mapLocal.map(parseMapLocalSpec);
  }

  request(flow: HTTPFlow): HookResult {
    // Synchronous (no promise) for flows this addon has nothing to do with.
    if (flow.response || flow.error || !flow.live || this.specs.length === 0) return;
    return this.serve(flow);
  }

  private async serve(flow: HTTPFlow): Promise<void> {
    const url = flow.request.prettyUrl;
    const tried: string[] = [];
    for (const spec of this.specs) {
      if (!spec.matches(flow)) continue;
      const m = spec.regex.regex.exec(url);
      if (!m) continue;
      let file: string | null = null;
      if ((await stat(spec.root).catch(() => null))?.isFile()) {
        file = spec.root;
      } else {
        const c = fileCandidates(spec.root, url, spec.regex, m);
        if (!c.ok) {
          this.log.warn(`map_local: refusing ${url}: '${c.suffix}' leaves ${spec.root} (rule ${spec.spec}).`);
          flow.response = notFound(`404 Not Found: map_local refuses ${url}: its path leaves the mapped directory.`);
          return;
        }
        const found = await findFile(spec.root, c.files);
        if (found.file === null && found.outside)
          this.log.warn(`map_local: ${url} resolves outside ${spec.root} through a symlink; not served.`);
        file = found.file;
        if (file === null) tried.push(...c.relative.map((r) => `${r} in ${spec.root}`));
      }
      if (file === null) continue;
      let contents: Buffer;
      try {
        contents = await readFile(file);
      } catch (err) {
        this.log.warn(`map_local: could not read ${file}: ${(err as Error).message}`);
        tried.push(file);
        continue;
      }
      flow.response = HTTPResponse.make(200, contents, { Server: 'mitmts', 'Content-Type': contentTypeFor(file) });
      return;
    }
    if (tried.length > 0) {
      this.log.info(`map_local: none of the local file candidates exist: ${tried.join(', ')}`);
      flow.response = notFound(`404 Not Found: map_local has no local file for ${url}.`);
    }
  }
}
