/** Event `i` of bench/sse.mjs's streams (the origin sends them, the bench checks the bodies). */
export const sseEvent = (i) => `id: ${i}\ndata: {"n":${i},"delta":"${'x'.repeat(40)}"}\n\n`;
