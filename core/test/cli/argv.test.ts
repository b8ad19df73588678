import { describe, expect, it } from 'vitest';
import { optionFlags, parseArgs, usageText } from '../../src/cli/argv.js';

describe('parseArgs', () => {
  it('maps mitmdump flags to options', () => {
    const a = parseArgs([
      '-p',
      '8081',
      '--listen-host',
      '0.0.0.0',
      '-m',
      'regular',
      '-m',
      'socks5',
      '-s',
      'a.ts',
      '-s',
      'b.ts',
      '-w',
      'out.mitm',
      '-r',
      'in.mitm',
      '-n',
      '-k',
      '--anticache',
      '--no-anticomp',
      '--flow-detail',
      '3',
      '--confdir',
      '/tmp/c',
      '--stickycookie',
      '.',
      '--stickyauth',
      '.',
      '--map-local',
      '|x|/|./site',
      '--map-remote',
      '|a|b',
      '--modify-body',
      '/a/b',
      '--modify-headers',
      '/h/v',
      '-C',
      'c.mitm',
      '-S',
      's.mitm',
      '--ignore-hosts',
      'x',
      '--allow-hosts',
      'y',
      '--tcp-hosts',
      'z',
      '--proxyauth',
      'u:p',
    ]);
    const v = Object.fromEntries([...a.flags].map(([k, { value }]) => [k, value]));
    expect(v).toEqual({
      listen_port: 8081,
      listen_host: '0.0.0.0',
      mode: ['regular', 'socks5'],
      scripts: ['a.ts', 'b.ts'],
      save_stream_file: 'out.mitm',
      rfile: 'in.mitm',
      server: false,
      ssl_insecure: true,
      anticache: true,
      anticomp: false,
      flow_detail: 3,
      confdir: '/tmp/c',
      stickycookie: '.',
      stickyauth: '.',
      map_local: ['|x|/|./site'],
      map_remote: ['|a|b'],
      modify_body: ['/a/b'],
      modify_headers: ['/h/v'],
      client_replay: ['c.mitm'],
      server_replay: ['s.mitm'],
      ignore_hosts: ['x'],
      allow_hosts: ['y'],
      tcp_hosts: ['z'],
      proxyauth: 'u:p',
    });
  });

  it('collects --set, -q, -v, the meta flags and the positional filter', () => {
    const a = parseArgs([
      '--set',
      'a=1',
      '--set=b',
      '-q',
      '-v',
      '--options',
      '--commands',
      '--version',
      '~d',
      'example.com',
      '&',
      '~s',
    ]);
    expect(a.sets).toEqual(['a=1', 'b']);
    expect([a.quiet, a.verbose, a.options, a.commands, a.version]).toEqual([true, true, true, true, true]);
    expect(a.filter).toBe('~d example.com & ~s');
  });

  it('accepts --flag=value, -pVALUE and flags generated from declared options', () => {
    const extra = optionFlags([
      { name: 'block_global', type: 'bool', default: true, help: '', owner: 'block', value: true },
      {
        name: 'connection_strategy',
        type: 'str',
        default: 'eager',
        choices: ['eager', 'lazy'],
        help: '',
        owner: 'p',
        value: 'eager',
      },
    ]);
    const a = parseArgs(['--listen-port=9', '-p10', '--no-block-global', '--connection-strategy', 'lazy'], extra);
    expect(a.flags.get('listen_port')!.value).toBe(10);
    expect(a.flags.get('block_global')!.value).toBe(false);
    expect(a.flags.get('connection_strategy')!.value).toBe('lazy');
    expect(() => parseArgs(['--connection-strategy', 'never'], extra)).toThrowError(
      '--connection-strategy: invalid choice "never" (choose from eager, lazy).',
    );
  });

  it('explains unknown flags, missing values and bad integers', () => {
    expect(() => parseArgs(['--anticahe'])).toThrowError('Unknown flag: --anticahe. Did you mean --anticache?');
    expect(() => parseArgs(['-Z'])).toThrowError('Unknown flag: -Z.');
    expect(() => parseArgs(['-p'])).toThrowError('-p needs a value.');
    expect(() => parseArgs(['-p', 'eighty'])).toThrowError('-p expects an integer, got "eighty".');
    expect(() => parseArgs(['--anticache=yes'])).toThrowError('--anticache takes no value (got "yes").');
  });

  it('prints a usage that lists the flags', () => {
    const u = usageText();
    expect(u).toMatch(/^usage: mitmts \[options\] \[filter \.\.\.\]/);
    expect(u).toContain('-p, --listen-port PORT');
    expect(u).toContain('-n, --server, --no-server');
  });

  it('lists only the flags whose option is declared (a flag of an addon not in the build is left out)', () => {
    const declared = new Set(['listen_port', 'server_replay']);
    const u = usageText([], (o) => declared.has(o));
    expect(u).toContain('-S, --server-replay PATH');
    expect(u).toContain('-p, --listen-port PORT');
    expect(u).not.toContain('--client-replay');
    expect(u).not.toContain('--anticache');
  });
});
