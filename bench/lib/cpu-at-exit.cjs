// Preloaded into a child (NODE_OPTIONS=--require) by benchmarks that time a command: at exit it
// writes the process's own CPU time (user + system, microseconds) to $MITMTS_BENCH_CPU_FILE.
'use strict';
const { writeFileSync } = process.getBuiltinModule?.('node:fs') ?? module.require('node:fs');
const file = process.env.MITMTS_BENCH_CPU_FILE;
if (file) {
  process.on('exit', () => {
    const { user, system } = process.cpuUsage();
    writeFileSync(file, JSON.stringify({ user, system }));
  });
}
