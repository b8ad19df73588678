import {
  addon,
  command,
  type Flow,
  HTTPFlow,
  inject,
  KERNEL,
  type Kernel,
  LOG,
  type Logger,
  option,
  HTTPResponse,
  withFlowFiles,
} from '@mitmts/sdk';
import { matchKey, type MatchOptions } from './matchkey.js';

/** Options that change how requests are matched: the recorded flows are keyed again when one changes. */
const MATCH_OPTIONS = [
  'server_replay_ignore_content',
  'server_replay_ignore_host',
  'server_replay_ignore_params',
  'server_replay_ignore_payload_params',
  'server_replay_ignore_port',
  'server_replay_use_headers',
] as const;

/**
 * Answers requests with recorded responses (mitmproxy's `serverplayback`, `-S`): a request that
 * matches a recorded one (see {@link matchKey}) gets a copy of its response and never reaches the
 * server. Each recorded response is served once, in recorded order, unless `server_replay_reuse`.
 * Requests without a recorded match go on to the server, or are killed or answered with an empty
 * status response (`server_replay_extra`), while recorded responses are left.
 */
@addon({ name: 'serverplayback', description: 'Answer requests with recorded responses.' })
export class ServerPlayback {
  @option({
    type: 'bool',
    default: false,
    help: "Kill extra requests during replay (for which no replayable response was found). [Deprecated, prefer to use server_replay_extra='kill']",
  })
  server_replay_kill_extra!: boolean;

  @option({
    type: 'str',
    default: 'forward',
    choices: ['forward', 'kill', '204', '400', '404', '500'],
    help:
      'Behaviour for extra requests during replay for which no replayable response was found. ' +
      'Setting a numeric string value will return an empty HTTP response with the respective status code.',
  })
  server_replay_extra!: string;

  @option({
    type: 'bool',
    default: false,
    help: "Don't remove flows from server replay state after use. This makes it possible to replay same response multiple times.",
  })
  server_replay_reuse!: boolean;

  @option({ type: 'bool', default: false, help: 'Deprecated alias for `server_replay_reuse`.' })
  server_replay_nopop!: boolean;

  @option({
    type: 'bool',
    default: true,
    help: 'Refresh server replay responses by adjusting date, expires and last-modified headers, as well as adjusting cookie expiration.',
  })
  server_replay_refresh!: boolean;

  @option({
    type: 'str[]',
    default: [],
    help: 'Request headers that need to match while searching for a saved flow to replay.',
  })
  server_replay_use_headers!: readonly string[];

  @option({ type: 'str[]', default: [], help: 'Replay server responses from a saved file.' })
  server_replay!: readonly string[];

  @option({ type: 'bool', default: false, help: 'Ignore request content while searching for a saved flow to replay.' })
  server_replay_ignore_content!: boolean;

  @option({
    type: 'str[]',
    default: [],
    help: 'Request parameters to be ignored while searching for a saved flow to replay.',
  })
  server_replay_ignore_params!: readonly string[];

  @option({
    type: 'str[]',
    default: [],
    help: 'Request payload parameters (application/x-www-form-urlencoded or multipart/form-data) to be ignored while searching for a saved flow to replay.',
  })
  server_replay_ignore_payload_params!: readonly string[];

  @option({
    type: 'bool',
    default: false,
    help: 'Ignore request destination host while searching for a saved flow to replay.',
  })
  server_replay_ignore_host!: boolean;

  @option({
    type: 'bool',
    default: false,
    help: 'Ignore request destination port while searching for a saved flow to replay.',
  })
  server_replay_ignore_port!: boolean;

  /** Recorded flows with a response, by match key, in recorded order. */
  private flowmap = new Map<string, HTTPFlow[]>();

  constructor(
    @inject(KERNEL) private readonly kernel: Kernel,
    @inject(LOG) private readonly log: Logger,
  ) {}

  configure(updated: ReadonlySet<string>): void | Promise<void> {
    if (updated.has('server_replay_kill_extra') && this.server_replay_kill_extra) {
      this.log.warn(
        "server_replay_kill_extra has been deprecated, please update your config to use server_replay_extra='kill'.",
      );
    }
    if (updated.has('server_replay_nopop') && this.server_replay_nopop) {
      this.log.warn('server_replay_nopop has been renamed to server_replay_reuse, please update your config.');
    }
    if (updated.has('server_replay') && this.server_replay.length > 0) {
      // Read here: a missing or damaged file is an error of the option (at start-up, mitmts
      // exits with it) and the previous state stays.
      return withFlowFiles(this.server_replay, { option: 'server_replay' }, (flows) => this.replay(flows));
    } else if (MATCH_OPTIONS.some((o) => updated.has(o))) {
      this.replay([...this.flowmap.values()].flat());
    }
  }

  @command('replay.server', {
    args: ['flows'],
    help: 'Replay server responses from flows (replaces the flows being replayed).',
  })
  replay(flows: readonly Flow[]): void {
    this.flowmap = new Map();
    this.addFlows(flows);
  }

  @command('replay.server.add', { args: ['flows'], help: 'Add responses from flows to server replay list.' })
  addFlows(flows: readonly Flow[]): void {
    const o = this.matchOptions();
    for (const f of flows) {
      if (!(f instanceof HTTPFlow) || !f.response) continue;
      const key = matchKey(f, o);
      const list = this.flowmap.get(key);
      if (list) list.push(f);
      else this.flowmap.set(key, [f]);
    }
    void this.kernel.trigger('update', []);
  }

  @command('replay.server.file', {
    args: ['path'],
    help: 'Replay server responses from a flow file (replaces the flows being replayed).',
  })
  loadFile(path: string): void | Promise<void> {
    return withFlowFiles([path], { command: 'replay.server.file' }, (flows) => this.replay(flows));
  }

  @command('replay.server.stop', { help: 'Stop server replay.' })
  stop(): void {
    this.flowmap = new Map();
    void this.kernel.trigger('update', []);
  }

  @command('replay.server.count', { returns: 'int', help: 'The number of recorded responses not served yet.' })
  count(): number {
    let n = 0;
    for (const list of this.flowmap.values()) n += list.length;
    return n;
  }

  request(f: HTTPFlow): void {
    if (this.flowmap.size === 0 || f.response || f.error) return;
    const recorded = this.next(f);
    if (recorded) {
      const response = recorded.response!.copy();
      if (this.server_replay_refresh) response.refresh();
      f.response = response;
      f.isReplay = 'response';
      return;
    }
    const extra = this.server_replay_kill_extra ? 'kill' : this.server_replay_extra;
    if (extra === 'forward') return;
    if (extra === 'kill') {
      this.log.warn(`server_playback: killed non-replay request ${f.request.url}`);
      if (f.killable) f.kill();
      return;
    }
    this.log.warn(`server_playback: returned ${extra} non-replay request ${f.request.url}`);
    f.response = HTTPResponse.make(Number(extra));
    f.isReplay = 'response';
  }

  /** The recorded flow to answer `f` with: the first match, taken off the list unless reused. */
  private next(f: HTTPFlow): HTTPFlow | undefined {
    const key = matchKey(f, this.matchOptions());
    const list = this.flowmap.get(key);
    if (!list) return undefined;
    if (this.server_replay_reuse || this.server_replay_nopop) return list[0];
    const first = list.shift();
    if (list.length === 0) this.flowmap.delete(key);
    return first;
  }

  private matchOptions(): MatchOptions {
    return {
      ignoreContent: this.server_replay_ignore_content,
      ignoreHost: this.server_replay_ignore_host,
      ignorePort: this.server_replay_ignore_port,
      ignoreParams: this.server_replay_ignore_params,
      ignorePayloadParams: this.server_replay_ignore_payload_params,
      useHeaders: this.server_replay_use_headers,
    };
  }
}
