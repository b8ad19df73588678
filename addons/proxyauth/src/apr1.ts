import { createHash } from 'node:crypto';

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

const md5 = (...parts: Buffer[]): Buffer => {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
};

function to64(v: number, n: number): string {
  let out = '';
  while (n-- > 0) {
    out += ITOA64[v & 0x3f];
    v >>= 6;
  }
  return out;
}

/**
 * Apache's `$apr1$` password hash (MD5-crypt with the `$apr1$` magic; what `htpasswd` writes by
 * default): `apr1(password, salt)` is the full `$apr1$salt$hash` string.
 */
export function apr1(password: string, salt: string): string {
  const pw = Buffer.from(password, 'utf8');
  const s = Buffer.from(salt.slice(0, 8), 'utf8');
  const magic = Buffer.from('$apr1$');
  let final = md5(pw, s, pw);
  const parts: Buffer[] = [pw, magic, s];
  for (let left = pw.length; left > 0; left -= 16) parts.push(final.subarray(0, Math.min(left, 16)));
  for (let i = pw.length; i > 0; i >>= 1) parts.push(i & 1 ? Buffer.from([0]) : pw.subarray(0, 1));
  final = md5(...parts);
  for (let i = 0; i < 1000; i++) {
    const round: Buffer[] = [];
    round.push(i & 1 ? pw : final);
    if (i % 3) round.push(s);
    if (i % 7) round.push(pw);
    round.push(i & 1 ? final : pw);
    final = md5(...round);
  }
  const f = final;
  const hash =
    to64((f[0]! << 16) | (f[6]! << 8) | f[12]!, 4) +
    to64((f[1]! << 16) | (f[7]! << 8) | f[13]!, 4) +
    to64((f[2]! << 16) | (f[8]! << 8) | f[14]!, 4) +
    to64((f[3]! << 16) | (f[9]! << 8) | f[15]!, 4) +
    to64((f[4]! << 16) | (f[10]! << 8) | f[5]!, 4) +
    to64(f[11]!, 2);
  return `$apr1$${s.toString('utf8')}$${hash}`;
}
