/**
 * The built-in DH parameters written to `<basename>-dhparam.pem`: RFC 7919 group ffdhe2048 in
 * PKCS#3 PEM form (as `openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048` writes
 * it). mitmproxy ships its own fixed 4096-bit group; either file is loaded as it is found.
 */
export const DEFAULT_DHPARAM = `-----BEGIN DH PARAMETERS-----
MIIBCAKCAQEA//////////+t+FRYortKmq/cViAnPTzx2LnFg84tNpWp4TZBFGQz
+8yTnc4kmz75fS/jY2MMddj2gbICrsRhetPfHtXV/WVhJDP1H18GbtCFY2VVPe0a
87VXE15/V8k1mE8McODmi3fipona8+/och3xWKE2rec1MKzKT0g6eXq8CrGCsyT7
YdEIqUuyyOP7uWrat2DX9GgdT0Kj3jlN9K5W7edjcrsZCwenyO4KbXCeAvzhzffi
7MA0BM0oNC9hkXL+nOmFg/+OTxIy7vKBg8P+OxtMb61zO7X8vC7CIAXFjvGDfRaD
ssbzSibBsu/6iGtCOGEoXJf//////////wIBAg==
-----END DH PARAMETERS-----
`;
