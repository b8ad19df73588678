import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { OptionsError } from '@mitmts/sdk';
import { apr1 } from './apr1.js';

/** Checks a user name and password; a promise where the check is slow (bcrypt). */
export type Validator = (user: string, password: string) => boolean | Promise<boolean>;

type Check = (password: string) => boolean | Promise<boolean>;

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The check for one htpasswd hash, or null for a format that is not supported. */
function checkFor(hash: string): Check | null {
  if (/^\$2[aby]\$\d\d\$/.test(hash)) {
    // bcrypt ($2y$ is what Apache's `htpasswd -B` writes; the same algorithm as $2b$).
    // bcryptjs is loaded with the first bcrypt check: a proxy without such a file never loads it.
    const h = hash.replace(/^\$2y\$/, '$2b$');
    return async (pw) => (await import('bcryptjs')).default.compare(pw, h);
  }
  if (hash.startsWith('{SHA}')) {
    const want = hash.slice(5);
    return (pw) => same(createHash('sha1').update(pw, 'utf8').digest('base64'), want);
  }
  const m = /^\$apr1\$([^$]{0,8})\$[./0-9A-Za-z]{22}$/.exec(hash);
  if (m) {
    const salt = m[1]!;
    return (pw) => same(apr1(pw, salt), hash);
  }
  return null;
}

/**
 * An Apache htpasswd file: `user:hash` lines with bcrypt (`htpasswd -B`), Apache MD5
 * (`$apr1$`, htpasswd's default) or SHA1 (`{SHA}`, `htpasswd -s`) hashes. Other formats (crypt,
 * plain text) are rejected with the file and line, so a file never half-works.
 */
export function htpasswdValidator(path: string): Validator {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new OptionsError(`Could not open htpasswd file: ${path} (${(err as Error).message})`);
  }
  const users = new Map<string, Check>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0)
      throw new OptionsError(`${path}:${i + 1}: expected "user:hash", got ${JSON.stringify(line.slice(0, 40))}.`);
    const user = line.slice(0, colon);
    const check = checkFor(line.slice(colon + 1));
    if (!check) {
      throw new OptionsError(
        `${path}:${i + 1}: the password hash of user ${JSON.stringify(user)} is in a format mitmts does not support; ` +
          'use bcrypt (htpasswd -B), Apache MD5 (htpasswd -m) or SHA1 (htpasswd -s).',
      );
    }
    users.set(user, check);
  }
  return (user, password) => users.get(user)?.(password) ?? false;
}
