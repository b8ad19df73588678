import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../../src/version.js';

/**
 * Two physical copies of the built @mitmts/core in one process, as when an addon installed from a
 * folder brings its own: a kernel from copy A loads an addon decorated with copy B's decorators.
 * Each scenario runs in a fresh Node process (the registry is per process).
 */

const REPO = join(import.meta.dirname, '../..', '..');

/** `dir/node_modules/@mitmts/core`: a copy of core's package.json and dist, with its dependencies linked. */
function copyOfCore(dir: string, version?: string): string {
  const pkg = join(dir, 'node_modules/@mitmts/core');
  mkdirSync(pkg, { recursive: true });
  cpSync(join(REPO, 'core/dist'), join(pkg, 'dist'), { recursive: true });
  cpSync(join(REPO, 'core/package.json'), join(pkg, 'package.json'));
  if (version) writeFileSync(join(pkg, 'dist/version.js'), `export const VERSION = ${JSON.stringify(version)};\n`);
  const manifest = JSON.parse(readFileSync(join(REPO, 'core/package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  for (const dep of [...Object.keys(manifest.dependencies), 'tslib']) {
    if (existsSync(join(REPO, 'node_modules', dep)))
      symlinkSync(join(REPO, 'node_modules', dep), join(dir, 'node_modules', dep), 'dir');
  }
  return pkg;
}

/** An addon written against copy B, with every decorator and each way to reach the kernel. */
const ADDON = `
import 'reflect-metadata';
import { addon, command, hook, inject, option, ctx, AddonHalt, OptionsError, OptionsManager, LOG, OPTIONS } from '@mitmts/core';

export class Stamp {
  constructor(options, log) { this.options = options; this.log = log; this.responses = 0; }
  configure(updated) {
    if (updated.has('stamp_value') && this.stamp_value === 'bad') throw new OptionsError('stamp_value: bad is not allowed');
  }
  onResponse(flow) {
    this.responses++;
    flow.response.headers.set('x-stamp', this.stamp_value + '/' + ctx.options.get('stamp_value') + '/' + this.options.get('stamp_value'));
    this.log.info('stamped');
  }
  count() { return this.responses; }
}
addon({ name: 'stamp' })(Stamp);
option({ type: 'str', default: 'b', help: 'Header value.' })(Stamp.prototype, 'stamp_value');
hook('response')(Stamp.prototype, 'onResponse', Object.getOwnPropertyDescriptor(Stamp.prototype, 'onResponse'));
command('stamp.count', { returns: 'int' })(Stamp.prototype, 'count', Object.getOwnPropertyDescriptor(Stamp.prototype, 'count'));
inject(OPTIONS)(Stamp, undefined, 0);
inject(LOG)(Stamp, undefined, 1);

/** Injected by type, as tsc's emitDecoratorMetadata records it: copy B's OptionsManager class. */
export class ByType {
  constructor(options) { this.options = options; }
  running() { this.sawOptions = typeof this.options.get === 'function' && this.options.get('stamp_value'); }
}
addon({ name: 'bytype' })(ByType);
Reflect.defineMetadata('design:paramtypes', [OptionsManager], ByType);

export const halt = { name: 'halt', response() { throw new AddonHalt(); } };
`;

const SCENARIO = `
import { Kernel } from '@mitmts/core';
import { tflow, tresp } from '@mitmts/core';
import { Stamp, ByType, halt } from '../b/addon.mjs';

const kernel = new Kernel();
const logs = [];
kernel.log.onEntry((e) => logs.push(e.level + ' ' + (e.addon ?? '') + ': ' + e.message.split('\\n')[0]));
const [stamp, byType] = await kernel.add(Stamp, ByType);
await kernel.start();
const f = tflow({ resp: tresp() });
await kernel.trigger('response', f);
let rejected = null;
try { kernel.options.update({ stamp_value: 'bad' }); } catch (e) { rejected = e.constructor.name + ': ' + e.message; }
await kernel.add(halt, { name: 'after', response(flow) { flow.response.headers.set('x-after', '1'); } });
const g = tflow({ resp: tresp() });
await kernel.trigger('response', g);
console.log(JSON.stringify({
  owner: kernel.options.info('stamp_value').owner,
  header: f.response.headers.get('x-stamp'),
  count: await kernel.commands.call('stamp.count'),
  rejected,
  value: kernel.options.get('stamp_value'),
  byType: byType.sawOptions,
  haltedAfter: g.response.headers.get('x-after') ?? null,
  logs,
}));
await kernel.shutdown();
`;

function runScenario(
  versionB?: string,
): Promise<{ out: Record<string, unknown>; stderr: string; pathA: string; pathB: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'mitmts-copies-'));
  const pathA = copyOfCore(join(dir, 'a'));
  const pathB = copyOfCore(join(dir, 'b'), versionB);
  writeFileSync(join(dir, 'b/addon.mjs'), ADDON);
  writeFileSync(join(dir, 'a/run.mjs'), SCENARIO);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(dir, 'a/run.mjs')], { cwd: dir }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${err.message}\n${stderr}`));
      resolve({ out: JSON.parse(stdout) as Record<string, unknown>, stderr, pathA, pathB });
    });
  });
}

describe('two copies of @mitmts/core in one process', () => {
  it('a kernel from copy A runs an addon decorated with copy B: options, hooks, commands, injection, ctx, errors', async () => {
    const { out, stderr } = await runScenario();
    expect(out).toMatchObject({
      owner: 'stamp',
      header: 'b/b/b',
      count: 2,
      rejected: expect.stringMatching(/^OptionsError: stamp_value: bad is not allowed/),
      value: 'b',
      byType: 'b',
      haltedAfter: null,
    });
    expect(out.logs).toContain('info stamp: stamped');
    expect(out.logs).not.toContainEqual(expect.stringContaining('failed'));
    expect(stderr).not.toContain('MITMTS_DUPLICATE_CORE');
  });

  it('warns, naming both paths, when the two copies are different versions', async () => {
    const { out, stderr, pathA, pathB } = await runScenario('9.9.9');
    expect(out).toMatchObject({ header: 'b/b/b', count: 2 });
    expect(stderr).toContain('[MITMTS_DUPLICATE_CORE]');
    expect(stderr).toContain(`${VERSION} at ${join(pathA, 'dist/kernel/registry.js')}`);
    expect(stderr).toContain(`9.9.9 at ${join(pathB, 'dist/kernel/registry.js')}`);
  });

  it('keeps VERSION equal to the package version', () => {
    expect(VERSION).toBe(JSON.parse(readFileSync(join(REPO, 'core/package.json'), 'utf8')).version);
  });
});
