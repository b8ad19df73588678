/**
 * `ignore_hosts` / `allow_hosts` / `tcp_hosts` matching, as mitmproxy's next_layer does: each
 * entry is a regex searched (case-insensitively) in `host:port` (and the IP address).
 */
export class HostMatcher {
  private readonly res: RegExp[];
  constructor(readonly patterns: readonly string[]) {
    this.res = patterns.map((p) => new RegExp(p, 'i'));
  }
  get empty(): boolean {
    return this.res.length === 0;
  }
  matches(host: string | null | undefined, port: number, ip?: string | null): boolean {
    if (this.res.length === 0) return false;
    const subjects: string[] = [];
    if (host) subjects.push(`${host}:${port}`);
    if (ip && ip !== host) subjects.push(`${ip}:${port}`);
    return this.res.some((re) => subjects.some((s) => re.test(s)));
  }
}
