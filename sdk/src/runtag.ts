/**
 * Tags for `mitmts run`: the process a flow came from, carried in the proxy credentials of the
 * proxy URL the process is given (`http://mitmts-run:<tag>@127.0.0.1:8080`). Clients send them
 * as `Proxy-Authorization` on every proxied request and CONNECT, so a proxy that was started
 * apart (`mitmts run --proxy URL`) learns the process without being told in advance. The
 * `runtag` addon reads them into `flow.metadata` and drops them before anything is forwarded.
 */

/** The process a flow came from. */
export interface RunTag {
  /** Random id of one `mitmts run` (two runs of the same command differ). */
  readonly id: string;
  /** The command line, as the user typed it (cut to {@link MAX_CMD} characters). */
  readonly cmd: string;
}

/** The proxy user name that marks tag credentials. */
export const RUN_TAG_USER = 'mitmts-run';
/** Longest command line kept in a tag (headers have limits; a tag is a label). */
export const MAX_CMD = 300;
/** The metadata keys a tagged flow gets. */
export const RUN_METADATA = { cmd: 'mitmts.run', id: 'mitmts.run_id' } as const;

/** `user:password` for a tag (URL-safe as is: base64url). */
export function runTagCredentials(tag: RunTag): { user: string; password: string } {
  const cmd = tag.cmd.length > MAX_CMD ? `${tag.cmd.slice(0, MAX_CMD - 1)}…` : tag.cmd;
  return {
    user: RUN_TAG_USER,
    password: Buffer.from(JSON.stringify({ id: tag.id, cmd }), 'utf8').toString('base64url'),
  };
}

/** The tag in a `Proxy-Authorization` value, or null when it holds other credentials. */
export function parseRunTag(proxyAuthorization: string | undefined): RunTag | null {
  const m = proxyAuthorization === undefined ? null : /^\s*basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(proxyAuthorization);
  if (m === null) return null;
  const plain = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = plain.indexOf(':');
  try {
    // Clients percent-decode the URL's user info before encoding it; some do not.
    if (colon < 0 || decodeURIComponent(plain.slice(0, colon)) !== RUN_TAG_USER) return null;
    const v = JSON.parse(
      Buffer.from(decodeURIComponent(plain.slice(colon + 1)), 'base64url').toString('utf8'),
    ) as unknown;
    if (v === null || typeof v !== 'object') return null;
    const { id, cmd } = v as Record<string, unknown>;
    return typeof id === 'string' && typeof cmd === 'string'
      ? { id: id.slice(0, 64), cmd: cmd.slice(0, MAX_CMD) }
      : null;
  } catch {
    return null;
  }
}
