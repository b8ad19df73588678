import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { applyCommandLine, main } from '../../src/cli/main.js';
import { parseArgs } from '../../src/cli/argv.js';
import type { Distribution } from '../../src/cli/manifest.js';
import { addon, command, option } from '../../src/hooks/decorators.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { ctx } from '../../src/kernel/context.js';

@addon({ name: 'demo' })
class Demo {
  @option({ type: 'bool', default: false, help: 'Demo switch.' }) anticomp!: boolean;
  @option({ type: 'str?', default: null, help: 'A filter.' }) dumper_filter!: string | null;
  @option({ type: 'int', default: 1, help: 'Detail.' }) flow_detail!: number;
  @option({ type: 'str[]', default: [], help: 'Specs.' }) map_local!: readonly string[];
  static log: string[] = [];
  running(): void {
    Demo.log.push(
      `running anticomp=${this.anticomp} flow_detail=${this.flow_detail} filter=${this.dumper_filter} map_local=${this.map_local.join('+')}`,
    );
    if (ctx.options.get('listen_port') === 1) ctx.kernel.requestShutdown(3);
  }
  done(): void {
    Demo.log.push('done');
  }
  @command('demo.hello', { help: 'Say hello.', args: ['str'], returns: 'str' }) hello(name: string): string {
    return `hello ${name}`;
  }
}

function dist(): Distribution {
  return { name: 'mitmts', version: '9.9.9', addons: ['demo'], importer: async () => ({ default: Demo }) };
}

function io() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  return { io: { stdout, stderr, signals: false }, out: () => out, err: () => err };
}

function confdir(yaml?: string): string {
  const d = mkdtempSync(join(tmpdir(), 'mitmts-conf-'));
  if (yaml !== undefined) writeFileSync(join(d, 'config.yaml'), yaml);
  return d;
}

describe('option precedence', () => {
  async function resolve(argv: string[], yaml: string): Promise<Kernel> {
    const k = new Kernel();
    await k.add(Demo);
    await applyCommandLine(k, parseArgs(['--confdir', confdir(yaml), ...argv]));
    k.options.processDeferred();
    return k;
  }

  it('defaults < config.yaml < --set < flags < filter', async () => {
    expect((await resolve([], 'anticomp: true\nflow_detail: 2\n')).options.get('anticomp')).toBe(true);
    // mitmts: --set beats config.yaml (mitmproxy does the reverse; issue 5069).
    expect((await resolve(['--set', 'anticomp=false'], 'anticomp: true\n')).options.get('anticomp')).toBe(false);
    expect((await resolve(['--set', 'anticomp=true', '--no-anticomp'], '')).options.get('anticomp')).toBe(false);
    expect(
      (await resolve(['--set', 'flow_detail=3', '--flow-detail', '4'], 'flow_detail: 2\n')).options.get('flow_detail'),
    ).toBe(4);
    const k = await resolve(['--set', 'dumper_filter=~q', '~s'], 'dumper_filter: "~a"\n');
    expect(k.options.get('dumper_filter')).toBe('~s');
  });

  it('repeats --set for sequences and lets -q/-v set verbosity', async () => {
    const k = await resolve(
      ['--set', 'map_local=|a|b|c', '--set', 'map_local=|d|e|f', '-q'],
      'map_local: ["|x|y|z"]\n',
    );
    expect(k.options.get('map_local')).toEqual(['|a|b|c', '|d|e|f']);
    expect(k.options.get('termlog_verbosity')).toBe('error');
    expect(k.options.get('flow_detail')).toBe(0);
  });

  it('names file, line and key for an unknown config key', async () => {
    const k = new Kernel();
    await k.add(Demo);
    const dir = confdir('anticomp: true\n\nlisten_prot: 9\n');
    await applyCommandLine(k, parseArgs(['--confdir', dir]));
    await expect(k.start()).rejects.toThrowError(
      `Unknown option: listen_prot (from ${join(dir, 'config.yaml')}:3 (key listen_prot)). Did you mean listen_port?`,
    );
  });

  it('names file and line for a config value of the wrong type', async () => {
    const k = new Kernel();
    await k.add(Demo);
    const dir = confdir('flow_detail: many\n');
    await expect(applyCommandLine(k, parseArgs(['--confdir', dir]))).rejects.toThrowError(
      `Option flow_detail (from ${join(dir, 'config.yaml')}:1 (key flow_detail)): expected int, got "many".`,
    );
  });
});

describe('config.yaml at scale', () => {
  it('reads 20,000 keys, applying each file in one update (one configure round), and names the line of a bad key', async () => {
    const k = new Kernel();
    await k.add(Demo);
    const lines = ['anticomp: true', 'flow_detail: 3'];
    for (let i = 0; i < 20_000; i++) lines.push(`script_option_${i}: ${i}`);
    const dir = confdir(`${lines.join('\n')}\n`);
    let rounds = 0;
    k.options.onConfigure((updated) => {
      if (updated.has('anticomp') || updated.has('flow_detail')) rounds++;
    });
    await applyCommandLine(k, parseArgs(['--confdir', dir]));
    expect(rounds).toBe(1);
    expect(k.options.get('flow_detail')).toBe(3);
    // The unknown keys were deferred with their own line each.
    expect(k.options.pendingDeferred()).toHaveLength(20_000);
    expect(k.options.pendingDeferred()[19_999]!.source.label).toBe(
      `${join(dir, 'config.yaml')}:20002 (key script_option_19999)`,
    );
  });

  it('reports a key set twice with both lines', async () => {
    const k = new Kernel();
    const dir = confdir('anticomp: true\nflow_detail: 1\nanticomp: false\n');
    await expect(applyCommandLine(k, parseArgs(['--confdir', dir]))).rejects.toThrowError(
      `${join(dir, 'config.yaml')}:3: option anticomp is set twice (first on line 1); remove one of them.`,
    );
  });
});

describe('main', () => {
  it('runs until an addon asks to stop, firing running and done', async () => {
    Demo.log = [];
    const t = io();
    const code = await main(
      ['--confdir', confdir(), '-p', '1', '--anticomp', '--set', 'map_local=|a|b|c', '~q'],
      dist(),
      t.io,
    );
    expect(t.err()).toBe('');
    expect(code).toBe(3);
    expect(Demo.log).toEqual(['running anticomp=true flow_detail=1 filter=~q map_local=|a|b|c', 'done']);
  });

  it('prints the live option registry with --options', async () => {
    const t = io();
    expect(await main(['--options', '--confdir', confdir()], dist(), t.io)).toBe(0);
    expect(t.out()).toContain('# Demo switch.\n# Type bool. Default: false. Declared by demo.\nanticomp: false\n');
    expect(t.out()).toContain('listen_port: null');
    expect(t.out()).toContain('termlog_verbosity: "info"');
  });

  it('prints the command list with --commands', async () => {
    const t = io();
    expect(await main(['--commands'], dist(), t.io)).toBe(0);
    expect(t.out()).toBe('demo.hello name:str -> str\n    Say hello.\n');
  });

  it('says in one line what is wrong with the command line, pointing at --help, and exits 1', async () => {
    const t = io();
    expect(await main(['--frobnicate'], dist(), t.io)).toBe(1);
    expect(t.err()).toBe('mitmts: Unknown flag: --frobnicate. See mitmts --help.\n');
  });

  it('refuses a declared option this build does not implement, naming what is missing', async () => {
    const t = io();
    expect(await main(['--confdir', confdir(), '--set', 'http3=true'], dist(), t.io)).toBe(1);
    expect(t.err()).toBe(
      'mitmts: Option http3 (from --set): QUIC and HTTP/3 are not implemented in mitmts yet, so only its default (false) is accepted.\n',
    );
  });

  it('lists its subcommands in --help, and no flag for an unimplemented option', async () => {
    const t = io();
    expect(await main(['--help'], dist(), t.io, { build: async () => 0 })).toBe(0);
    expect(t.out()).toMatch(
      /^usage: mitmts \[options\] \[filter \.\.\.\]\n {7}mitmts flows \.\.\.\n {7}mitmts build \.\.\.\n/,
    );
    expect(t.out()).toMatch(/\n {2}flows {15}read flow files \(\.mitm, HAR, stores\) as JSON lines/);
    expect(t.out()).toContain('\nProxy options:\n');
    expect(t.out()).not.toContain('--show-ignored-hosts');
    expect(t.out()).not.toContain('--http3');
  });

  it('refuses `web` in a build without the web UI addon, and does not list it', async () => {
    const t = io();
    expect(await main(['web', '--confdir', confdir(), '-p', '0'], dist(), t.io)).toBe(1);
    expect(t.err()).toBe(
      "mitmts: the web subcommand needs the web UI addon, which this build lacks: add @mitmts/addon-web to its manifest's addons.\n",
    );
    expect(await main(['--help'], dist(), t.io)).toBe(0);
    expect(t.out()).not.toContain('mitmts web');
  });

  it('names a custom build in its usage errors and version', async () => {
    const t = io();
    const custom = { ...dist(), name: 'tinyproxy' };
    expect(await main(['--frobnicate'], custom, t.io)).toBe(1);
    expect(await main(['--version'], custom, t.io)).toBe(0);
    expect(t.err()).toBe('tinyproxy: Unknown flag: --frobnicate. See tinyproxy --help.\n');
    expect(t.out()).toMatch(/^tinyproxy: 9\.9\.9\n/);
  });

  it('reports a bad option value and exits 1', async () => {
    const t = io();
    expect(await main(['--confdir', confdir(), '--set', 'flow_detail=x'], dist(), t.io)).toBe(1);
    expect(t.err()).toBe('mitmts: Option flow_detail: expected int, got "x".\n');
  });

  it('prints its version', async () => {
    const t = io();
    expect(await main(['--version'], dist(), t.io)).toBe(0);
    expect(t.out()).toMatch(/^Mitmts: 9\.9\.9\nNode\.js: v\d+/);
  });
});
