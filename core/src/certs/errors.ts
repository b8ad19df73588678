/** Stable codes of the errors the certificate store throws. Tests and callers match on these. */
export type CertErrorCode =
  | 'MITMTS_ERR_CERT_FILE_MISSING'
  | 'MITMTS_ERR_CERT_FILE_INVALID'
  | 'MITMTS_ERR_CERT_KEY_MISMATCH'
  | 'MITMTS_ERR_CERT_KEY_MISSING'
  | 'MITMTS_ERR_CA_INVALID'
  | 'MITMTS_ERR_CERT_PASSPHRASE'
  | 'MITMTS_ERR_CERT_KEY_TYPE'
  | 'MITMTS_ERR_CONFDIR';

/**
 * An error of the certificate store. The message says what went wrong, with which file, and how
 * to fix it; `code` is stable, `path` names the file involved (if any).
 */
export class CertError extends Error {
  override readonly name = 'CertError';
  readonly code: CertErrorCode;
  readonly path: string | undefined;

  constructor(code: CertErrorCode, message: string, path?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.path = path;
  }
}
