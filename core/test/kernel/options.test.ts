import { describe, expect, it } from 'vitest';
import { OptionsError } from '../../src/kernel/errors.js';
import { parseConfig } from '../../src/options/config.js';
import { OptionsManager } from '../../src/options/manager.js';

function manager(): OptionsManager {
  const m = new OptionsManager();
  m.declare({ name: 'listen_port', type: 'int?', default: null, help: 'port' }, 'core');
  m.declare({ name: 'listen_host', type: 'str', default: '', help: 'host' }, 'core');
  m.declare({ name: 'anticache', type: 'bool', default: false, help: 'anticache' }, 'anticache');
  m.declare({ name: 'ignore_hosts', type: 'str[]', default: [], help: 'hosts' }, 'core');
  m.declare({ name: 'stickycookie', type: 'str?', default: null, help: 'filter' }, 'stickycookie');
  m.declare({ name: 'flow_detail', type: 'int', default: 1, help: 'detail' }, 'dumper');
  m.declare(
    { name: 'connection_strategy', type: 'str', default: 'eager', choices: ['eager', 'lazy'], help: 'when' },
    'proxyserver',
  );
  return m;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('OptionsManager', () => {
  it('starts at defaults and reports changes', () => {
    const m = manager();
    expect(m.get('anticache')).toBe(false);
    expect(m.get('listen_port')).toBeNull();
    m.update({ anticache: true, listen_port: 8081 });
    expect(m.get('anticache')).toBe(true);
    expect(m.changed()).toEqual({ anticache: true, listen_port: 8081 });
  });

  it('rejects an unknown option and suggests the closest names', () => {
    const m = manager();
    expect(() => m.get('listen_prot')).toThrowError('Unknown option: listen_prot. Did you mean listen_port?');
    expect(codeOf(() => m.update({ anticach: true }))).toBe('MITMTS_ERR_UNKNOWN_OPTION');
    expect(() => m.set(['flowdetail=2'])).toThrowError(/Did you mean flow_detail\?/);
  });

  it('names the option, the value and the expected type on a type error', () => {
    const m = manager();
    expect(() => m.update({ listen_port: 'x' })).toThrowError('Option listen_port: expected optional int, got "x".');
    expect(() => m.update({ anticache: 1 })).toThrowError('Option anticache: expected bool, got 1.');
    expect(() => m.update({ ignore_hosts: 'a' })).toThrowError(
      'Option ignore_hosts: expected sequence of str, got "a".',
    );
    expect(() => m.set(['flow_detail=two'])).toThrowError('Option flow_detail: expected int, got "two".');
    expect(codeOf(() => m.update({ connection_strategy: 'sometimes' }))).toBe('MITMTS_ERR_OPTION_CHOICE');
  });

  it('applies an update atomically: one bad value changes nothing', () => {
    const m = manager();
    expect(() => m.update({ anticache: true, listen_port: 'nope' })).toThrow(OptionsError);
    expect(m.get('anticache')).toBe(false);
    expect(() => m.set(['anticache', 'listen_port=abc'])).toThrow(OptionsError);
    expect(m.get('anticache')).toBe(false);
  });

  it('parses --set strings by type', () => {
    const m = manager();
    m.set(['anticache', 'listen_port=9000', 'ignore_hosts=a', 'ignore_hosts=b', 'stickycookie']);
    expect(m.get('anticache')).toBe(true);
    expect(m.get('listen_port')).toBe(9000);
    expect(m.get('ignore_hosts')).toEqual(['a', 'b']);
    expect(m.get('stickycookie')).toBeNull();
    m.set(['anticache=toggle']);
    expect(m.get('anticache')).toBe(false);
    m.set(['anticache=TRUE']);
    expect(m.get('anticache')).toBe(true);
    expect(() => m.set(['listen_host'])).toThrowError('Option listen_host is required: --set listen_host=<str>.');
    expect(() => m.set(['flow_detail=1', 'flow_detail=2'])).toThrowError(/takes one/);
    m.set(['ignore_hosts']);
    expect(m.get('ignore_hosts')).toEqual([]);
  });

  it('defers values for options nobody declared yet, then applies them', () => {
    const m = manager();
    m.set(['custom_flag=on', 'anticache'], { defer: true, source: { label: '--set' } });
    expect(m.get('anticache')).toBe(true);
    expect(m.pendingDeferred().map((p) => p.name)).toEqual(['custom_flag']);
    expect(() => m.assertNoPending()).toThrowError('Unknown option: custom_flag (from --set).');
    m.declare({ name: 'custom_flag', type: 'str', default: 'off', help: '' }, 'script');
    expect(m.processDeferred()).toEqual(['custom_flag']);
    expect(m.get('custom_flag')).toBe('on');
    expect(() => m.assertNoPending()).not.toThrow();
  });

  it('rolls back when a configure listener rejects the change, and re-announces the old values', () => {
    const m = manager();
    const seen: Array<[string[], boolean]> = [];
    m.onConfigure((updated) => {
      seen.push([[...updated], m.get('anticache') as boolean]);
      if (m.get('anticache') === true) throw new OptionsError('anticache is not allowed here');
    });
    expect(() => m.update({ anticache: true, flow_detail: 3 })).toThrowError('anticache is not allowed here');
    expect(m.get('anticache')).toBe(false);
    expect(m.get('flow_detail')).toBe(1);
    expect(seen).toEqual([
      [['anticache', 'flow_detail'], true],
      [['anticache', 'flow_detail'], false],
    ]);
  });

  it('does not announce updates that change nothing', () => {
    const m = manager();
    let calls = 0;
    m.onConfigure(() => calls++);
    m.update({ anticache: false, ignore_hosts: [] });
    expect(calls).toBe(0);
    m.update({ ignore_hosts: ['x'] });
    expect(calls).toBe(1);
  });

  it('rejects the same option from two owners, and keeps the value on re-declaration by the same owner', () => {
    const m = manager();
    expect(codeOf(() => m.declare({ name: 'anticache', type: 'bool', default: false, help: '' }, 'other'))).toBe(
      'MITMTS_ERR_OPTION_DUPLICATE',
    );
    m.update({ anticache: true });
    m.declare({ name: 'anticache', type: 'bool', default: false, help: 'reloaded' }, 'anticache');
    expect(m.get('anticache')).toBe(true);
    expect(m.info('anticache').help).toBe('reloaded');
  });

  it('rejects a default of the wrong type at declaration', () => {
    const m = new OptionsManager();
    expect(() => m.declare({ name: 'x', type: 'int', default: 'a' as never, help: '' }, 'a')).toThrowError(
      'Option x (default): expected int, got "a".',
    );
  });

  it('resets to defaults', () => {
    const m = manager();
    m.update({ anticache: true, flow_detail: 3 });
    m.resetOne('flow_detail');
    expect(m.get('flow_detail')).toBe(1);
    m.reset();
    expect(m.get('anticache')).toBe(false);
  });
});

describe('config.yaml', () => {
  it('reads typed values with their lines', () => {
    const c = parseConfig(
      '# comment\nanticache: true\nlisten_port: 8081\nignore_hosts:\n  - a\n  - b\n',
      '/x/config.yaml',
    );
    expect(c.values).toEqual({ anticache: true, listen_port: 8081, ignore_hosts: ['a', 'b'] });
    expect(c.lines).toEqual({ anticache: 2, listen_port: 3, ignore_hosts: 4 });
  });

  it('reports invalid YAML with file and line', () => {
    expect(() => parseConfig('anticache: true\nlisten_port: [1, 2\n', '/x/config.yaml')).toThrowError(
      /^\/x\/config\.yaml:3:1: invalid YAML/,
    );
  });

  it('rejects a file that is not a mapping', () => {
    expect(() => parseConfig('just a string\n', '/x/config.yaml')).toThrowError(
      '/x/config.yaml:1: expected a mapping of option names to values (e.g. "anticache: true"), found no keys.',
    );
  });

  it('treats an empty file as no settings', () => {
    expect(parseConfig('', '/x/config.yaml').values).toEqual({});
    expect(parseConfig('# nothing\n', '/x/config.yaml').values).toEqual({});
  });
});

describe('OptionsManager: bounds and checks', () => {
  function bounded(): OptionsManager {
    const m = new OptionsManager();
    m.declare({ name: 'flow_detail', type: 'int', default: 1, min: 0, max: 4, help: 'detail' }, 'dumper');
    m.declare({ name: 'listen_port', type: 'int?', default: null, min: 0, max: 65535, help: 'port' }, 'core');
    const order = ['low', 'mid', 'high'];
    const range = (end: 'min' | 'max') => (v: unknown, get: (n: string) => unknown) => {
      const lo = end === 'min' ? v : get('level_min');
      const hi = end === 'max' ? v : get('level_max');
      return order.indexOf(String(lo)) > order.indexOf(String(hi))
        ? `${String(lo)} is above ${String(hi)}.`
        : undefined;
    };
    m.declare(
      { name: 'level_min', type: 'str', default: 'low', choices: order, check: range('min'), help: 'min' },
      'x',
    );
    m.declare(
      { name: 'level_max', type: 'str', default: 'high', choices: order, check: range('max'), help: 'max' },
      'x',
    );
    return m;
  }

  it('rejects ints out of range from code, --set and deferred values, naming the range', () => {
    const m = bounded();
    expect(codeOf(() => m.update({ flow_detail: 9 }))).toBe('MITMTS_ERR_OPTION_RANGE');
    expect(() => m.set(['flow_detail=-1'], { source: { label: '--set' } })).toThrowError(
      'Option flow_detail (from --set): -1 is out of range: expected an integer from 0 to 4.',
    );
    expect(() => m.update({ listen_port: 70000 })).toThrowError('expected an integer from 0 to 65535');
    m.update({ flow_detail: 4, listen_port: null });
    expect(m.get('flow_detail')).toBe(4);
    const late = new OptionsManager();
    late.update({ depth: 11 }, { defer: true, source: { label: 'config.yaml:2' } });
    late.declare({ name: 'depth', type: 'int', default: 0, max: 10, help: 'd' }, 'x');
    expect(() => late.processDeferred()).toThrowError(
      'Option depth (from config.yaml:2): 11 is out of range: expected an integer of at most 10.',
    );
  });

  it('refuses a default outside its own bounds at declaration', () => {
    expect(() =>
      new OptionsManager().declare({ name: 'n', type: 'int', default: 5, max: 4, help: 'n' }, 'x'),
    ).toThrowError(/out of range/);
  });

  it('runs checks against the other options as they will be after the update, atomically', () => {
    const m = bounded();
    let configured = 0;
    m.onConfigure(() => configured++);
    expect(codeOf(() => m.update({ level_min: 'high', level_max: 'mid' }))).toBe('MITMTS_ERR_OPTION_VALUE');
    expect(() => m.update({ level_max: 'low', level_min: 'mid' }, { source: { label: 'config.yaml:7' } })).toThrowError(
      'Option level_max (from config.yaml:7): mid is above low.',
    );
    expect([m.get('level_min'), m.get('level_max'), configured]).toEqual(['low', 'high', 0]);
    // Moving both ends together is fine even though either change alone would be refused.
    m.update({ level_min: 'high' });
    expect(() => m.update({ level_max: 'low' })).toThrowError('high is above low');
    m.update({ level_min: 'low', level_max: 'low' });
    expect([m.get('level_min'), m.get('level_max'), configured]).toEqual(['low', 'low', 2]);
  });
});
