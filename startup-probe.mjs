const t0 = performance.now();
const m = await import(process.argv[2]);
console.log(process.argv[2], (performance.now() - t0).toFixed(1), 'ms', (process.memoryUsage().rss / 1048576).toFixed(1), 'MiB');
