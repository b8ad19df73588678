/**
 * The store's errors, with stable codes: what went wrong with which database file, and what to
 * do about it. SQLite's own error codes (`SQLITE_CORRUPT`, `SQLITE_BUSY`, ...) are mapped here.
 */

export type StoreErrorCode =
  /** better-sqlite3 is not installed (or its native module does not load). */
  | 'MITMTS_ERR_STORE_SQLITE'
  /** zstd-napi is not installed (or its native module does not load). */
  | 'MITMTS_ERR_STORE_ZSTD'
  /** The file cannot be opened or created (missing directory, permissions). */
  | 'MITMTS_ERR_STORE_OPEN'
  /** The file is not a SQLite database, or is damaged. */
  | 'MITMTS_ERR_STORE_CORRUPT'
  /** A SQLite database, but not a mitmts store (or one from a newer mitmts). */
  | 'MITMTS_ERR_STORE_FOREIGN'
  /** Another process holds a lock on the database. */
  | 'MITMTS_ERR_STORE_LOCKED'
  /** The disk (or the file system's quota) is full. */
  | 'MITMTS_ERR_STORE_FULL'
  /** Any other I/O or SQLite failure. */
  | 'MITMTS_ERR_STORE_IO';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}

/** The SQLite (or Node fs) error code of `err`, if any. */
function codeOf(err: unknown): string {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : '';
}

/**
 * A StoreError for a failure while working on `path`: SQLite and file system codes mapped to
 * ours, with a message that says what to do. `doing` says what was attempted ("open", "write").
 */
export function storeError(err: unknown, path: string, doing: string): StoreError {
  if (err instanceof StoreError) return err;
  const code = codeOf(err);
  const detail = (err as Error)?.message ?? String(err);
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new StoreError(
      'MITMTS_ERR_STORE_CORRUPT',
      `${path} is not a usable SQLite database (${detail}): it is damaged or not a database. Move it away (the store creates a new one) or choose another file with --set store=PATH.`,
      { cause: err },
    );
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError(
      'MITMTS_ERR_STORE_LOCKED',
      `${path} is locked by another process (${detail}): stop the other writer (another mitmts, or a sqlite3 shell inside a transaction) or choose another file with --set store=PATH.`,
      { cause: err },
    );
  }
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') {
    return new StoreError(
      'MITMTS_ERR_STORE_FULL',
      `Cannot ${doing} ${path}: the disk is full (${detail}). Free some space; flows that could not be written are counted in store.status.`,
      {
        cause: err,
      },
    );
  }
  if (
    code.startsWith('SQLITE_CANTOPEN') ||
    code === 'ENOENT' ||
    code === 'ENOTDIR' ||
    code === 'EEXIST' ||
    code === 'EACCES' ||
    code === 'EPERM' ||
    code === 'EROFS' ||
    code.startsWith('SQLITE_READONLY')
  ) {
    return new StoreError(
      'MITMTS_ERR_STORE_OPEN',
      `Cannot ${doing} ${path}: ${detail}. Check that the directory exists and is writable.`,
      { cause: err },
    );
  }
  return new StoreError('MITMTS_ERR_STORE_IO', `Cannot ${doing} ${path}: ${detail}${code ? ` (${code})` : ''}.`, {
    cause: err,
  });
}
