/**
 * The environment variables a child process needs to go through an embedded proxy and trust its
 * CA, for the common HTTP stacks: curl, Python (requests, httpx, urllib), Node (undici's
 * `EnvHttpProxyAgent`, or `NODE_USE_ENV_PROXY=1` where Node has it), Go, Ruby. A type literal,
 * not an interface, so that it is assignable to `Record<string, string>` (an `env`).
 */
export type ProxyEnv = {
  /** The proxy for http:// URLs (curl, Python, Go, undici). */
  readonly HTTP_PROXY: string;
  /** The proxy for https:// URLs (curl, Python, Go, undici). */
  readonly HTTPS_PROXY: string;
  /** Lower-case copies: curl reads only `http_proxy` for http:// URLs. */
  readonly http_proxy: string;
  readonly https_proxy: string;
  /** Cleared (empty), so that an inherited `NO_PROXY=127.0.0.1` does not bypass the proxy. */
  readonly NO_PROXY: string;
  readonly no_proxy: string;
  /** Node: trust the proxy's CA in addition to the bundled roots. */
  readonly NODE_EXTRA_CA_CERTS: string;
  /** OpenSSL-based clients (Python's `ssl`, Ruby, httpx): the CA file. */
  readonly SSL_CERT_FILE: string;
  /** Python requests. */
  readonly REQUESTS_CA_BUNDLE: string;
  /** curl (which ignores `SSL_CERT_FILE` when built with a default bundle). */
  readonly CURL_CA_BUNDLE: string;
};

/**
 * {@link ProxyEnv} for a proxy at `proxyUrl` whose CA certificate (PEM) is at `caCertPath`.
 * Note that the CA files replace the system roots for Python and curl: a child that also calls
 * servers outside the proxy should go through the proxy for those too.
 */
export function proxyEnv(proxyUrl: string, caCertPath: string): ProxyEnv {
  return {
    HTTP_PROXY: proxyUrl,
    HTTPS_PROXY: proxyUrl,
    http_proxy: proxyUrl,
    https_proxy: proxyUrl,
    NO_PROXY: '',
    no_proxy: '',
    NODE_EXTRA_CA_CERTS: caCertPath,
    SSL_CERT_FILE: caCertPath,
    REQUESTS_CA_BUNDLE: caCertPath,
    CURL_CA_BUNDLE: caCertPath,
  };
}
