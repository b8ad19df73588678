/** Decode the value bytes of a DER OBJECT IDENTIFIER into dotted form (`2.5.29.17`). */
export function oidFromDer(b: Uint8Array): string {
  const subs: number[] = [];
  let acc = 0;
  for (let i = 0; i < b.length; i++) {
    acc = acc * 128 + (b[i]! & 0x7f);
    if ((b[i]! & 0x80) === 0) {
      subs.push(acc);
      acc = 0;
    }
  }
  if (subs.length === 0) return '';
  const first = subs[0]!;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return head.concat(subs.slice(1)).join('.');
}
