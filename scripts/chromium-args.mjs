// The flags every headless Chromium of the tests and benchmarks runs with: no sandbox or GPU
// (containers), no QUIC (the proxy speaks TCP), no background traffic of its own.
export const CHROMIUM_ARGS = Object.freeze([
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]);
