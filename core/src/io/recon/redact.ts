/**
 * Secrets out of `mitmts flows` output, by default. Two rules:
 * - by name: header, query, cookie, form and JSON keys whose words name a secret
 *   (`Authorization`, `Cookie`, `x-api-key`, `api_key`, `access_token`, `client_secret`,
 *   `password`, `sessionId`, ...). Every string under such a key is replaced.
 * - by look: well-known credential formats anywhere in text (JWTs, `Bearer` tokens, `sk-...`
 *   API keys, AWS access key ids, GitHub and Slack tokens, Google API keys).
 * A replaced value reads `<redacted N chars>`, so output shows that something was there and
 * how long it was, never what it was. Numbers and booleans are kept (`max_tokens: 100` is not
 * a secret), and so are the scheme of an Authorization header and cookie names.
 */
import type { JsonValue } from './json.js';

/** Words that make a name secret on their own. */
const SECRET_WORDS = new Set([
  'authorization',
  'auth',
  'cookie',
  'token',
  'secret',
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'apikey',
  'session',
  'sessionid',
  'sid',
  'credential',
  'credentials',
  'signature',
  'sig',
  'jwt',
  'bearer',
  'csrf',
  'xsrf',
  'otp',
  'privatekey',
  'accesskey',
  'secretkey',
]);
/** Word pairs that make a name secret (`api_key`, `x-goog-api-key`, `privateKey`). */
const SECRET_PAIRS = new Set(['api key', 'private key', 'access key', 'secret key']);
/**
 * A last word that makes a name describe a secret rather than hold one: `token_type`,
 * `token_url`, `session_count`, `authorization_endpoint`.
 */
const DESCRIBING_WORDS = new Set([
  'type',
  'types',
  'count',
  'limit',
  'expires',
  'expiry',
  'ttl',
  'length',
  'size',
  'kind',
  'format',
  'url',
  'uri',
  'endpoint',
  'path',
  'method',
  'methods',
  'scheme',
]);
/** Whole names that are secret although their word is too common alone. */
const SECRET_NAMES = new Set(['key', 'code_verifier', 'x-amz-security-token']);

const nameCache = new Map<string, boolean>();

/** Split a name into lower-case words: `x-api-key`, `apiKey`, `API_KEY` all give `api key`. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** Does this header, parameter, cookie or JSON key name a secret? */
export function isSecretName(name: string): boolean {
  let v = nameCache.get(name);
  if (v !== undefined) return v;
  const w = words(name);
  v = SECRET_NAMES.has(name.toLowerCase()) || w.some((x) => SECRET_WORDS.has(x));
  for (let i = 0; !v && i + 1 < w.length; i++) v = SECRET_PAIRS.has(`${w[i]} ${w[i + 1]}`);
  if (v && w.length > 1 && DESCRIBING_WORDS.has(w[w.length - 1]!)) v = false;
  if (nameCache.size > 10_000) nameCache.clear();
  nameCache.set(name, v);
  return v;
}

/** The marker that replaces a secret. */
export function redacted(value: string): string {
  return `<redacted ${value.length} char${value.length === 1 ? '' : 's'}>`;
}

/** Credential formats recognised anywhere in text. */
const SECRET_LOOKS = new RegExp(
  [
    String.raw`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`, // JWT
    String.raw`\bsk-[A-Za-z0-9_-]{20,}`, // OpenAI / Anthropic style API keys
    String.raw`\bAKIA[0-9A-Z]{16}\b`, // AWS access key id
    String.raw`\bgh[pousr]_[A-Za-z0-9]{30,}`, // GitHub tokens
    String.raw`\bxox[abposr]-[A-Za-z0-9-]{10,}`, // Slack tokens
    String.raw`\bAIza[0-9A-Za-z_-]{35}`, // Google API keys
  ].join('|'),
  'g',
);
const BEARER = /\b(Bearer|Basic|Digest|Token)\s+([^\s,;"']{8,})/gi;

/** Replace credential-looking substrings of free text. */
export function redactText(text: string): string {
  if (text.length < 16) return text;
  return text
    .replace(BEARER, (_m, scheme: string, v: string) => `${scheme} ${redacted(v)}`)
    .replace(SECRET_LOOKS, (m) => redacted(m));
}

/**
 * Applies the rules, or does nothing when redaction is off (`--no-redact`). One instance per
 * run; it holds no per-flow state.
 */
export class Redactor {
  constructor(readonly enabled: boolean) {}

  /** A header value, given its name. */
  header(name: string, value: string): string {
    if (!this.enabled) return value;
    const lower = name.toLowerCase();
    if (lower === 'cookie') return this.cookieHeader(value);
    if (lower === 'set-cookie') return this.setCookieHeader(value);
    if (lower === 'authorization' || lower === 'proxy-authorization') {
      const m = /^(\S+)\s+(.+)$/.exec(value);
      return m ? `${m[1]} ${redacted(m[2]!)}` : redacted(value);
    }
    return isSecretName(name) ? redacted(value) : redactText(value);
  }

  /** A query, form or cookie parameter value, given its name. */
  param(name: string, value: string): string {
    if (!this.enabled) return value;
    return isSecretName(name) ? redacted(value) : redactText(value);
  }

  /** Free text (bodies that are neither JSON nor forms, WebSocket text, URLs' paths). */
  text(value: string): string {
    return this.enabled ? redactText(value) : value;
  }

  /** A URL or path: secret query parameters replaced, the rest as is. */
  url(url: string): string {
    if (!this.enabled) return url;
    const q = url.indexOf('?');
    if (q < 0) return redactText(url);
    const hash = url.indexOf('#', q);
    const query = url.slice(q + 1, hash < 0 ? undefined : hash);
    const parts = query.split('&').map((p) => {
      const eq = p.indexOf('=');
      if (eq < 0) return p;
      let name = p.slice(0, eq);
      try {
        name = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        // keep the raw name
      }
      const value = p.slice(eq + 1);
      return isSecretName(name)
        ? `${p.slice(0, eq)}=${encodeURIComponent(redacted(value))}`
        : `${p.slice(0, eq)}=${redactText(value)}`;
    });
    return redactText(url.slice(0, q)) + '?' + parts.join('&') + (hash < 0 ? '' : url.slice(hash));
  }

  /** A parsed JSON value: strings under secret keys replaced, credential looks everywhere. */
  json(value: JsonValue, secret = false): JsonValue {
    if (!this.enabled) return value;
    if (typeof value === 'string') return secret && value.length > 0 ? redacted(value) : redactText(value);
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => this.json(v, secret));
    const out: { [key: string]: JsonValue } = {};
    for (const k of Object.keys(value)) out[k] = this.json(value[k]!, secret || isSecretName(k));
    return out;
  }

  private cookieHeader(value: string): string {
    return value
      .split(';')
      .map((c) => {
        const eq = c.indexOf('=');
        return eq < 0 ? c : `${c.slice(0, eq)}=${redacted(c.slice(eq + 1))}`;
      })
      .join(';');
  }

  private setCookieHeader(value: string): string {
    const semi = value.indexOf(';');
    const first = semi < 0 ? value : value.slice(0, semi);
    const eq = first.indexOf('=');
    if (eq < 0) return value;
    return `${first.slice(0, eq)}=${redacted(first.slice(eq + 1))}${semi < 0 ? '' : value.slice(semi)}`;
  }
}
