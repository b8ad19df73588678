// Reading a V8 .cpuprofile (node --cpu-prof): self time per function and per file.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

function where(cf, root) {
  let url = cf.url || '';
  if (url.startsWith('file://')) url = url.slice(7);
  if (url.startsWith(root)) url = relative(root, url);
  if (!url) return '';
  return `${url}:${cf.lineNumber + 1}`;
}

/**
 * Self time per frame, biggest first. `(idle)` is reported apart; percentages are of the busy
 * (non-idle) time. Returns `{ totalMs, idleMs, busyMs, frames: [{ name, where, selfMs, pct }], files }`.
 */
export function summarizeProfile(path, root) {
  const prof = JSON.parse(readFileSync(path, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfById = new Map();
  const { samples, timeDeltas } = prof;
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time since the previous sample; charge it to this sample's frame.
    const d = Math.max(0, timeDeltas[i] ?? 0);
    selfById.set(samples[i], (selfById.get(samples[i]) ?? 0) + d);
  }
  const frames = new Map();
  const files = new Map();
  const cats = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfById) {
    const n = byId.get(id);
    if (!n) continue;
    const cf = n.callFrame;
    total += us;
    if (cf.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const name = cf.functionName || '(anonymous)';
    const w = where(cf, root);
    const key = `${name}\u0000${w}`;
    const f = frames.get(key) ?? { name, where: w, selfUs: 0 };
    f.selfUs += us;
    frames.set(key, f);
    const file = w ? w.replace(/:\d+$/, '') : name.startsWith('(') ? name : '(native/builtin)';
    files.set(file, (files.get(file) ?? 0) + us);
    const cat = category(name, file);
    cats.set(cat, (cats.get(cat) ?? 0) + us);
  }
  const busy = total - idle;
  const out = (us) => ({ selfMs: us / 1000, pct: busy > 0 ? (100 * us) / busy : 0 });
  return {
    totalMs: total / 1000,
    idleMs: idle / 1000,
    busyMs: busy / 1000,
    frames: [...frames.values()]
      .sort((a, b) => b.selfUs - a.selfUs)
      .map((f) => ({ name: f.name, where: f.where, ...out(f.selfUs) })),
    files: [...files.entries()].sort((a, b) => b[1] - a[1]).map(([file, us]) => ({ file, ...out(us) })),
    categories: [...cats.entries()].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, ...out(us) })),
  };
}

const SOCKET_NATIVE = new Set([
  'writeBuffer',
  'writev',
  'writeUtf8String',
  'writeLatin1String',
  'read',
  'readStart',
  'readStop',
  'close',
  'shutdown',
  'connect',
  'setNoDelay',
]);

/** A coarse bucket for a frame: where the busy time goes at a glance. */
function category(name, file) {
  if (name === '(garbage collector)') return 'garbage collection';
  if (name === '(program)') return '(program: V8/native outside JS)';
  if (SOCKET_NATIVE.has(name) && file === '(native/builtin)')
    return 'native stream read/write (syscalls; + encryption on TLS sockets)';
  if (/async_hooks|promiseInitHook|promiseBeforeHook|promiseAfterHook|promiseResolveHook/.test(file + name))
    return 'async_hooks / AsyncLocalStorage';
  if (/^node:(_tls|internal\/tls|internal\/crypto)|^node:tls/.test(file) || ['initRead', 'signOneShot'].includes(name))
    return 'TLS and crypto (Node + OpenSSL)';
  if (
    /^node:internal\/(modules|deps\/cjs-module-lexer|bootstrap)|^node:internal\/url/.test(file) ||
    ['openFileHandle', 'readFileUtf8', 'internalModuleStat'].includes(name)
  )
    return 'module loading';
  if (/^(core|sdk|addons|bench)\//.test(file)) return 'mitmts code';
  if (file.includes('node_modules/')) return 'dependencies (node_modules)';
  if (file.startsWith('node:')) return 'Node internals (streams, net, events, timers)';
  return 'other native';
}

/** The top `n` frames (and top files) as printable lines. */
export function formatProfile(summary, n = 15) {
  const lines = [
    `busy ${summary.busyMs.toFixed(0)} ms of ${summary.totalMs.toFixed(0)} ms sampled (idle ${summary.idleMs.toFixed(0)} ms); % of busy time`,
  ];
  lines.push('  self ms    %   function  (location)');
  for (const f of summary.frames.slice(0, n)) {
    lines.push(
      `  ${f.selfMs.toFixed(1).padStart(7)} ${f.pct.toFixed(1).padStart(5)}  ${f.name}${f.where ? `  (${f.where})` : ''}`,
    );
  }
  lines.push('  by file:');
  for (const f of summary.files.slice(0, 8))
    lines.push(`  ${f.selfMs.toFixed(1).padStart(7)} ${f.pct.toFixed(1).padStart(5)}  ${f.file}`);
  lines.push('  by kind:');
  for (const c of summary.categories)
    lines.push(`  ${c.selfMs.toFixed(1).padStart(7)} ${c.pct.toFixed(1).padStart(5)}  ${c.name}`);
  return lines.join('\n');
}
