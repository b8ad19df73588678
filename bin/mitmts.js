#!/usr/bin/env node
// `node bin/mitmts.js` in this repository runs the mitmts command line (packages/mitmts), as
// `npm start`, the tests and the benchmarks do.
await import('../packages/mitmts/bin/mitmts.js');
