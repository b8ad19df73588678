import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as sdk from '@mitmts/sdk';
import { tflow, withAddons, type TestContext } from '@mitmts/sdk/testing';
import { ScriptLoader } from '../src/index.js';
import { registeredBundles } from '../src/stack.js';
import { lifecycleScript, nextEvent, put, tempDir } from './helpers.js';

const open: TestContext[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.done();
});

async function start(
  scripts: string[],
  options: Record<string, unknown> = {},
): Promise<{ tctx: TestContext; loader: ScriptLoader }> {
  const tctx = await withAddons([ScriptLoader], { scripts, ...options });
  open.push(tctx);
  const loader = tctx.addon<ScriptLoader>('script');
  loader.debounceMs = 10;
  return { tctx, loader };
}

async function versionOf(tctx: TestContext): Promise<string | undefined> {
  const f = tflow();
  await tctx.trigger('request', f);
  return f.request.headers.get('x-version') ?? undefined;
}

describe('loading scripts', () => {
  it('loads a TypeScript script with decorators, injection, options and commands, after the loader in the chain', async () => {
    const dir = tempDir();
    const p = put(
      dir,
      'counter.ts',
      `
import { addon, command, hook, inject, option, LOG, OPTIONS, type HTTPFlow, type Logger, type OptionsManager } from '@mitmts/sdk';
@addon({ name: 'counter' })
class Counter {
  @option({ type: 'int', default: 1, help: 'Step.' }) counter_step!: number;
  count = 0;
  constructor(@inject(LOG) private readonly log: Logger, @inject(OPTIONS) readonly options: OptionsManager) {}
  @hook('request') onRequest(_f: HTTPFlow): void { this.count += this.counter_step; this.log.info('counted ' + this.count); }
  @command('counter.get', { returns: 'int' }) get(): number { return this.count; }
}
export default Counter;
`,
    );
    const { tctx } = await start([p], { counter_step: 5 });
    await tctx.trigger('request', tflow());
    expect(await tctx.call('counter.get')).toBe(5);
    expect(tctx.messages('info')).toContain('counted 5');
    expect(tctx.logs.find((e) => e.message === 'counted 5')?.addon).toBe('counter');
    expect(tctx.kernel.addons.names()).toEqual(['script', `scriptmanager:${p}`, 'counter']);
    expect(tctx.addon<{ options: unknown }>('counter').options).toBe(tctx.kernel.options);
  });

  it("gives a script anywhere on disk the running proxy's own SDK", async () => {
    const dir = tempDir();
    const p = put(
      dir,
      'same.ts',
      `import * as sdk from '@mitmts/sdk';\nexport const addons = [{ name: 'same', sdk }];`,
    );
    const { tctx } = await start([p]);
    const a = tctx.addon<{ sdk: typeof sdk }>('same');
    expect(a.sdk.HTTPFlow).toBe(sdk.HTTPFlow);
    expect(a.sdk.ctx).toBe(sdk.ctx);
  });

  it.each([
    [
      'an instance as default export',
      'x.ts',
      `export default { name: 'inst', request(f: any) { f.request.headers.set('x-by', 'inst'); } };`,
      'inst',
    ],
    [
      'an array of addons',
      'x.ts',
      `class One { request(f: any) { f.request.headers.set('x-by', 'one'); } }\nexport default [new One()];`,
      'one',
    ],
    [
      'export const addons',
      'x.mts',
      `export const addons = [{ name: 'listed', request(f: any) { f.request.headers.set('x-by', 'listed'); } }];`,
      'listed',
    ],
    [
      'bare hook functions (mitmproxy anatomy2)',
      'anatomy2.js',
      `export function request(flow) { flow.request.headers.set('x-by', 'anatomy2'); }`,
      'anatomy2',
    ],
    [
      'CommonJS exports in a .js file',
      'cjs.js',
      `exports.addons = [{ name: 'cjs', request(f) { f.request.headers.set('x-by', 'cjs'); } }];`,
      'cjs',
    ],
    [
      'an .mjs file',
      'm.mjs',
      `export default { name: 'mjs', request(f) { f.request.headers.set('x-by', 'mjs'); } };`,
      'mjs',
    ],
  ])('takes %s', async (_what, file, source, name) => {
    const p = put(tempDir(), file, source);
    const { tctx } = await start([p]);
    expect(tctx.kernel.addons.names()).toContain(name);
    const f = tflow();
    await tctx.trigger('request', f);
    expect(f.request.headers.get('x-by')).toBe(name);
  });

  it('imports relative modules and npm packages (CommonJS and ESM-only) installed beside the script', async () => {
    const dir = tempDir();
    put(dir, 'node_modules/cjs-pkg/package.json', JSON.stringify({ name: 'cjs-pkg', main: 'index.js' }));
    put(
      dir,
      'node_modules/cjs-pkg/index.js',
      `module.exports = function shout(s) { return s.toUpperCase(); }; module.exports.tag = 'cjs';`,
    );
    put(
      dir,
      'node_modules/esm-pkg/package.json',
      JSON.stringify({ name: 'esm-pkg', type: 'module', exports: { '.': { import: './index.js' } } }),
    );
    put(
      dir,
      'node_modules/esm-pkg/index.js',
      `export default function wrap(s) { return '[' + s + ']'; }\nexport const tag = 'esm';`,
    );
    put(dir, 'package.json', JSON.stringify({ type: 'module' }));
    put(dir, 'lib/util.ts', `export const suffix = (s: string): string => s + '!';`);
    const p = put(
      dir,
      'deps.ts',
      `
import shout, { tag as cjsTag } from 'cjs-pkg';
import wrap, { tag as esmTag } from 'esm-pkg';
import { createRequire } from 'node:module';
import { suffix } from './lib/util';
const req = createRequire(import.meta.url);
export default { name: 'deps', request(f: any) {
  f.request.headers.set('x-deps', suffix(wrap(shout('hi'))) + cjsTag + esmTag + req('cjs-pkg').tag);
} };
`,
    );
    const { tctx, loader } = await start([p]);
    const f = tflow();
    await tctx.trigger('request', f);
    expect(f.request.headers.get('x-deps')).toBe('[HI]!cjsesmcjs');
    expect(loader.script(p)!.watchedFiles()).toEqual([p, join(dir, 'lib/util.ts')].sort());
  });

  it('rejects a missing script and a duplicate, naming the path', async () => {
    const p = put(tempDir(), 'a.ts', 'export default { name: "a" };');
    await expect(withAddons([ScriptLoader], { scripts: ['/nonexistent/x.ts'] })).rejects.toThrow(
      'No such script: /nonexistent/x.ts',
    );
    const { tctx } = await start([]);
    expect(() => tctx.configure({ scripts: [p, ` "${p}" `] })).toThrow(`Duplicate script: ${p}`);
    expect(tctx.kernel.options.get('scripts')).toEqual([]);
  });

  it('keeps scripts in option order and reorders without reloading', async () => {
    const dir = tempDir();
    const a = put(dir, 'a.ts', `export default { name: 'a', load() {} };`);
    const b = put(dir, 'b.ts', `export default { name: 'b' };`);
    const { tctx, loader } = await start([a, b]);
    expect(tctx.kernel.addons.names()).toEqual(['script', `scriptmanager:${a}`, 'a', `scriptmanager:${b}`, 'b']);
    tctx.configure({ scripts: [b, a] });
    await loader.idle();
    expect(tctx.kernel.addons.names()).toEqual(['script', `scriptmanager:${b}`, 'b', `scriptmanager:${a}`, 'a']);
    expect(loader.script(a)!.version).toBe(1);
    expect(tctx.messages('info').filter((m) => m.startsWith('Loading script'))).toHaveLength(2);
  });

  it('un-loads a script removed from the option (done fires) and drops a deleted file from the option', async () => {
    const dir = tempDir();
    const a = put(dir, 'a.ts', lifecycleScript('A'));
    const b = put(dir, 'b.ts', `export default { name: 'b' };`);
    const { tctx, loader } = await start([a, b]);
    tctx.configure({ scripts: [b] });
    await loader.idle();
    expect(tctx.messages('info')).toContain('A done');
    expect(tctx.kernel.addons.names()).toEqual(['script', `scriptmanager:${b}`, 'b']);
    const removed = nextEvent(loader, b, 'removed');
    rmSync(b);
    await removed;
    expect(tctx.kernel.options.get('scripts')).toEqual([]);
    expect(tctx.messages('info')).toContain(`Removing script ${b}`);
    expect(tctx.kernel.addons.names()).toEqual(['script']);
  });
});

describe('hot reload', () => {
  it("on save: new load, configure with every option, running; old done; options keep the user's values", async () => {
    const p = put(tempDir(), 'life.ts', lifecycleScript('v1'));
    const { tctx, loader } = await start([p], { life_value: 'mine' });
    expect(tctx.messages('info')).toEqual([`Loading script ${p}`, 'v1 load', 'v1 configure mine', 'v1 running']);
    tctx.logs.length = 0;
    const loaded = nextEvent(loader, p, 'loaded');
    writeFileSync(p, lifecycleScript('v2'));
    expect(await loaded).toMatchObject({ type: 'loaded', version: 2 });
    // The new version loads and configures before the old one leaves (a failed load keeps the old).
    expect(tctx.messages('info')).toEqual([
      `Loading script ${p}`,
      'v2 load',
      'v2 configure mine',
      'v1 done',
      'v2 running',
    ]);
    expect(await versionOf(tctx)).toBe('v2');
    expect(tctx.kernel.options.get('life_value')).toBe('mine');
  });

  it('reloads when a relative module the script imports changes', async () => {
    const dir = tempDir();
    put(dir, 'lib/tag.ts', `export const TAG = 'one';`);
    const p = put(
      dir,
      'rel.ts',
      `import { TAG } from './lib/tag';\nexport default { name: 'rel', request(f: any) { f.request.headers.set('x-version', TAG); } };`,
    );
    const { tctx, loader } = await start([p]);
    expect(await versionOf(tctx)).toBe('one');
    const loaded = nextEvent(loader, p, 'loaded');
    writeFileSync(join(dir, 'lib/tag.ts'), `export const TAG = 'two';`);
    await loaded;
    expect(await versionOf(tctx)).toBe('two');
  });

  it('sees editors that save by renaming a new file over the old one', async () => {
    const dir = tempDir();
    const p = put(dir, 'ren.ts', lifecycleScript('r1'));
    const { tctx, loader } = await start([p]);
    const loaded = nextEvent(loader, p, 'loaded');
    put(dir, '.ren.ts.swp', lifecycleScript('r2'));
    const { renameSync } = await import('node:fs');
    renameSync(join(dir, '.ren.ts.swp'), p);
    await loaded;
    expect(await versionOf(tctx)).toBe('r2');
  });

  it.each([
    [
      'a syntax error',
      `export default { name: 'broken', request( };`,
      /broken\.ts:1:\d+: .*\n    export default .*\n\s+\^/,
    ],
    [
      'an error esbuild reports on valid syntax',
      `let a = 1;\nlet a = 2;\nexport default { name: 'broken' };`,
      /broken\.ts:2:5: The symbol "a" has already been declared/,
    ],
    [
      'a throw at module level',
      `const x = 1;\nthrow new Error('top-level boom');\nexport default { name: 'broken' };`,
      /broken\.ts:2:7: top-level boom\n\s+at .*broken\.ts:2:7/,
    ],
    [
      'a throwing constructor',
      `class Broken {\n  constructor() {\n    throw new Error('ctor boom');\n  }\n}\nexport default Broken;`,
      /broken\.ts:3:11: addon Broken: constructor failed: ctor boom/,
    ],
    [
      'a throwing load',
      `export default {\n  name: 'broken',\n  load() { throw new TypeError('load boom'); },\n};`,
      /broken\.ts:3:18: addon broken: load failed: load boom/,
    ],
    [
      'an unresolved import',
      `import x from 'not-installed-pkg';\nexport default x;`,
      /broken\.ts:1:15: Cannot find package "not-installed-pkg" .*npm install not-installed-pkg/,
    ],
    ['no addon', `export const x = 1;`, /provides no addon/],
    [
      'a hook decorator naming no hook (unchecked types)',
      `import { hook } from '@mitmts/sdk';\nexport default class Typo {\n  @hook('responsheaders' as never) h(): void {}\n}`,
      /broken\.ts:3:\d+: @hook\("responsheaders"\): no such hook\. Did you mean responseheaders\?/,
    ],
    [
      'an exported function named almost like a hook',
      `export function responze(flow: unknown): void {}`,
      /broken\.ts: export function responze is no hook\. Did you mean response\?/,
    ],
    [
      'a constructor parameter without @inject',
      `import type { Logger } from '@mitmts/sdk';\nexport default class NoInject {\n  constructor(readonly log: Logger) {}\n}`,
      /constructor parameter 1 has no injection token\. Add @inject\(TOKEN\)/,
    ],
  ])('%s: reports file and line, keeps the previous version, loads the next good save', async (_what, bad, message) => {
    const dir = tempDir();
    const p = put(dir, 'broken.ts', lifecycleScript('good1'));
    const { tctx, loader } = await start([p]);
    const failed = nextEvent(loader, p, 'failed');
    writeFileSync(p, bad);
    const event = await failed;
    expect(event.type === 'failed' && event.error).toMatch(message);
    expect(event.type === 'failed' && event.error.startsWith(`error in script ${p}`)).toBe(true);
    expect(tctx.hasLog(`error in script ${p}`, 'error')).toBe(true);
    expect(await versionOf(tctx)).toBe('good1');
    expect(tctx.messages('info')).not.toContain('good1 done');
    const loaded = nextEvent(loader, p, 'loaded');
    writeFileSync(p, lifecycleScript('good2'));
    await loaded;
    expect(await versionOf(tctx)).toBe('good2');
    expect(tctx.messages('info')).toContain('good1 done');
  });

  it('warns about hooks this build never fires, and loads the script', async () => {
    const p = put(
      tempDir(),
      'udp.ts',
      `export function udp_message(flow: unknown): void {}\nexport function websocket_message(flow: unknown): void {}\nexport function request(flow: unknown): void {}`,
    );
    const { tctx } = await start([p]);
    expect(tctx.kernel.addons.names()).toContain('udp');
    expect(tctx.messages('warn')).toEqual([
      `script ${p}: the udp_message hook never fires in this build (mitmts proxies no UDP other than DNS: the dns mode makes DNS flows).`,
    ]);
  });

  it("keeps the previous version's commands when the new version fails to load", async () => {
    const cmd = (tag: string, load = '') =>
      `import { addon, command } from '@mitmts/sdk';\n` +
      `@addon({ name: 'cmd' }) class C { ${load} @command('cmd.tag', { returns: 'str' }) tag(): string { return '${tag}'; } }\nexport default C;`;
    const p = put(tempDir(), 'cmd.ts', cmd('c1'));
    const { tctx, loader } = await start([p]);
    expect(await tctx.call('cmd.tag')).toBe('c1');
    const failed = nextEvent(loader, p, 'failed');
    writeFileSync(p, cmd('c2', "load(): void { throw new Error('no'); }"));
    await failed;
    expect(await tctx.call('cmd.tag')).toBe('c1');
  });

  it('a first version whose configure rejects an option stays loaded with the error reported, and reloads cleanly', async () => {
    const src = (tag: string) => `
import { addon, option, OptionsError } from '@mitmts/sdk';
@addon({ name: 'strict' })
class Strict {
  @option({ type: 'int', default: 1, help: 'At most 10.' }) strict_n!: number;
  configure(u: ReadonlySet<string>): void { if (u.has('strict_n') && this.strict_n > 10) throw new OptionsError('strict_n must be <= 10'); }
  request(f: any): void { f.request.headers.set('x-version', '${tag}'); }
}
export default Strict;`;
    const p = put(tempDir(), 'strict.ts', src('s1'));
    const { tctx, loader } = await start([p], { strict_n: 50 });
    expect(tctx.messages('error')[0]).toMatch(
      /^error in script .*strict\.ts: .*strict\.ts:6:\d+: OptionsError: strict_n must be <= 10/,
    );
    expect(await versionOf(tctx)).toBe('s1');
    tctx.configure({ strict_n: 5 });
    const loaded = nextEvent(loader, p, 'loaded');
    writeFileSync(p, src('s2'));
    await loaded;
    expect(await versionOf(tctx)).toBe('s2');
    expect(tctx.kernel.addons.names()).toEqual(['script', `scriptmanager:${p}`, 'strict']);
  });

  it('a script whose first load fails joins the chain once a save fixes it', async () => {
    const dir = tempDir();
    const other = put(dir, 'other.ts', `export default { name: 'other' };`);
    const p = put(dir, 'late.ts', `export default {`);
    const { tctx, loader } = await start([p, other]);
    expect(tctx.kernel.addons.names()).toEqual(['script', `scriptmanager:${other}`, 'other']);
    const loaded = nextEvent(loader, p, 'loaded');
    writeFileSync(p, lifecycleScript('late'));
    await loaded;
    expect(tctx.kernel.addons.names()).toEqual([
      'script',
      `scriptmanager:${p}`,
      'life',
      `scriptmanager:${other}`,
      'other',
    ]);
    expect(tctx.messages('info')).toContain('late running');
  });

  it("maps stack traces of errors in hooks to the user's file and line", async () => {
    const dir = tempDir();
    put(dir, 'lib/fail.ts', `export function fail(): never {\n  throw new Error('deep boom');\n}`);
    const p = put(
      dir,
      'trace.ts',
      `import { fail } from './lib/fail';\n\nexport default {\n  name: 'trace',\n  request() {\n    fail();\n  },\n};`,
    );
    const { tctx } = await start([p]);
    await tctx.trigger('request', tflow());
    const msg = tctx.messages('error').find((m) => m.includes('deep boom'))!;
    expect(msg).toMatch(/^addon trace: request failed: deep boom/);
    expect(msg).toContain(`at fail (${join(dir, 'lib/fail.ts')}:2:9)`);
    expect(msg).toContain(`(${p}:6:5)`);
  });

  it('does not pile up source maps or addons over many reloads', async () => {
    const p = put(tempDir(), 'many.ts', lifecycleScript('m0'));
    const { tctx, loader } = await start([p]);
    for (let i = 1; i <= 8; i++) {
      const loaded = nextEvent(loader, p, 'loaded');
      writeFileSync(p, lifecycleScript(`m${i}`));
      await loaded;
    }
    expect(await versionOf(tctx)).toBe('m8');
    expect(registeredBundles()).toBe(2);
    expect(tctx.kernel.addons.names()).toEqual(['script', `scriptmanager:${p}`, 'life']);
    await tctx.done();
    open.length = 0;
    expect(registeredBundles()).toBe(0);
  });
});

describe('script.run', () => {
  it("runs a script on flows: configure, running, then each flow's hooks; no load, not added to the chain", async () => {
    const dir = tempDir();
    const p = put(
      dir,
      'run.ts',
      `
import { inject, LOG, type Logger, type HTTPFlow } from '@mitmts/sdk';
class Runner {
  constructor(@inject(LOG) private readonly log: Logger) {}
  load() { this.log.info('run load'); }
  configure() { this.log.info('run configure'); }
  running() { this.log.info('run running'); }
  request(f: HTTPFlow) { this.log.info('run request ' + f.request.path); }
  response(f: HTTPFlow) { f.response!.headers.set('x-run', 'yes'); this.log.info('run response'); }
}
export default Runner;
`,
    );
    const { tctx } = await start([]);
    const flows = [tflow({ resp: true }), tflow()];
    tctx.kernel.flows.add(flows[0]!);
    tctx.kernel.flows.add(flows[1]!);
    await tctx.command(`script.run @all ${p}`);
    expect(tctx.messages('info')).toEqual([
      'run configure',
      'run running',
      'run request /path',
      'run response',
      'run request /path',
    ]);
    expect(flows[0]!.response!.headers.get('x-run')).toBe('yes');
    expect(tctx.kernel.addons.names()).toEqual(['script']);
    expect(registeredBundles()).toBe(0);
  });

  it('logs a missing script and a broken one', async () => {
    const dir = tempDir();
    const bad = put(
      dir,
      'bad.ts',
      `export default {\n  name: 'bad',\n  request() { throw new Error('run boom'); },\n};`,
    );
    const { tctx } = await start([]);
    await tctx.call('script.run', [tflow()], join(dir, 'nope.ts'));
    expect(tctx.messages('error')).toEqual([`No such script: ${join(dir, 'nope.ts')}`]);
    await tctx.call('script.run', [tflow()], bad);
    expect(tctx.messages('error')[1]).toMatch(/^addon bad: request failed: run boom/);
    expect(tctx.messages('error')[1]).toContain(`at Object.request (${bad}:3:21)`);
  });
});
