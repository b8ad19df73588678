import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Kernel } from '../../src/kernel/kernel.js';

function sink() {
  const s = new PassThrough();
  let text = '';
  s.on('data', (d) => (text += d));
  return { s, text: () => text };
}

describe('terminal log', () => {
  it('prints by level and honours termlog_verbosity at once', () => {
    const out = sink();
    const err = sink();
    const k = new Kernel({ termlog: { out: out.s, err: err.s, color: false } });
    k.log.debug('hidden at info');
    k.log.info('an info line');
    k.log.alert('an alert');
    k.log.warn('a warning');
    k.log.error('an error');
    k.options.update({ termlog_verbosity: 'debug' });
    k.log.debug('now visible');
    k.options.update({ termlog_verbosity: 'error' });
    k.log.warn('hidden at error');
    k.log.error('still shown');
    expect(out.text()).toBe('an info line\n[alert] an alert\n[debug] now visible\n');
    expect(err.text()).toBe('[warn] a warning\n[error] an error\n[error] still shown\n');
  });

  it('colours levels when asked', () => {
    const out = sink();
    const err = sink();
    const k = new Kernel({ termlog: { out: out.s, err: err.s, color: true } });
    k.log.error('red');
    expect(err.text()).toBe('\x1b[31m[error] red\x1b[0m\n');
  });

  it('gives every entry to add_log hooks, with the addon name for scoped loggers', async () => {
    const k = new Kernel();
    const seen: string[] = [];
    await k.add({
      name: 'collector',
      add_log: (e: { level: string; message: string; addon?: string }) =>
        void seen.push(`${e.level}:${e.addon ?? '-'}:${e.message}`),
    });
    k.log.child('someone').warn('careful');
    k.log.info('plain');
    expect(seen).toEqual(['warn:someone:careful', 'info:-:plain']);
  });
});
