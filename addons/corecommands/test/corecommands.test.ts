import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addon, createProxy, HTTPFlow, option, parseConfig, type Flow } from '@mitmts/sdk';
import { requestVia, startOrigin, tflow, withAddons, type TestContext } from '@mitmts/sdk/testing';
import { AntiCache } from '@mitmts/addon-anticache';
import { Comment, Core, serializeOptions } from '@mitmts/addon-corecommands';

/** Options of every type, to exercise `set` and `options.*`. */
@addon({ name: 'knobs' })
class Knobs {
  @option({ type: 'bool', default: false, help: 'a flag' }) flag!: boolean;
  @option({ type: 'int', default: 3, help: 'a number' }) count!: number;
  @option({ type: 'str?', default: null, help: 'a name' }) label!: string | null;
  @option({ type: 'str[]', default: [], help: 'some words' }) words!: string[];
}

/** Records the flows each `update` hook got. */
@addon({ name: 'updates' })
class Updates {
  seen: Flow[][] = [];
  update(flows: readonly Flow[]): void {
    this.seen.push([...flows]);
  }
}

async function context(): Promise<TestContext> {
  return withAddons([Core, Comment, Knobs, Updates]);
}

function store(tctx: TestContext, ...flows: Flow[]): Flow[] {
  for (const f of flows) tctx.kernel.flows.add(f);
  return flows;
}

const tmp = (): string => mkdtempSync(join(tmpdir(), 'mitmts-core-'));

describe('set', () => {
  it('sets options as --set does: values, bare names, toggles and sequences', async () => {
    const tctx = await context();
    const o = tctx.kernel.options;
    await tctx.command('set flag');
    expect(o.get('flag')).toBe(true);
    await tctx.command('set flag toggle');
    expect(o.get('flag')).toBe(false);
    await tctx.command('set count 12');
    expect(o.get('count')).toBe(12);
    await tctx.command('set label "two words"');
    expect(o.get('label')).toBe('two words');
    await tctx.command('set label');
    expect(o.get('label')).toBe(null);
    await tctx.command('set words a b c');
    expect(o.get('words')).toEqual(['a', 'b', 'c']);
    await tctx.command('set words');
    expect(o.get('words')).toEqual([]);
  });

  it('turns option errors into command errors and changes nothing', async () => {
    const tctx = await context();
    await expect(tctx.command('set count many')).rejects.toThrow('Option count: expected int, got "many".');
    expect(tctx.kernel.options.get('count')).toBe(3);
    await expect(tctx.command('set cuont 1')).rejects.toThrow('Unknown option: cuont. Did you mean count?');
  });
});

describe('options.save, options.load, options.reset', () => {
  it('saves the changed options, keeps known keys already in the file and drops unknown ones', async () => {
    const tctx = await context();
    const file = join(tmp(), 'opts.yaml');
    writeFileSync(file, 'count: 3\nnot_an_option: 1\n');
    tctx.set('flag=true', 'words=x', 'words=y z', 'label=it\'s "quoted"');
    await tctx.call('options.save', file);
    const text = readFileSync(file, 'utf8');
    expect(parseConfig(text, file).values).toEqual({
      count: 3,
      flag: true,
      label: 'it\'s "quoted"',
      words: ['x', 'y z'],
    });
    expect(text).not.toContain('not_an_option');
  });

  it('loads a saved file back, and reports bad files with file and line', async () => {
    const a = await context();
    const file = join(tmp(), 'opts.yaml');
    a.set('flag=true', 'count=7', 'words=one');
    await a.call('options.save', file);
    const b = await context();
    await b.call('options.load', file);
    expect(b.kernel.options.changed()).toMatchObject({ flag: true, count: 7, words: ['one'] });
    writeFileSync(file, 'count: [1\n');
    await expect(b.call('options.load', file)).rejects.toThrow(`Error reading ${file}`);
    writeFileSync(file, 'count: lots\n');
    await expect(b.call('options.load', file)).rejects.toThrow(/count/);
    expect(b.kernel.options.get('count')).toBe(7);
    await expect(b.call('options.load', join(tmp(), 'missing.yaml'))).rejects.toThrow(
      /Cannot load options from .*missing\.yaml/,
    );
  });

  it('resets every option, or one', async () => {
    const tctx = await context();
    tctx.set('flag=true', 'count=9');
    await tctx.command('options.reset.one count');
    expect(tctx.kernel.options.get('count')).toBe(3);
    expect(tctx.kernel.options.get('flag')).toBe(true);
    await tctx.command('options.reset');
    expect(tctx.kernel.options.get('flag')).toBe(false);
    await expect(tctx.command('options.reset.one nope')).rejects.toThrow('No such option: nope');
  });

  it('writes YAML that config.yaml parsing reads back exactly', () => {
    const values = { a: true, b: 0, c: null, d: 'x: "y"\n\\z', e: [], f: ['1', 'two'] };
    expect(parseConfig(serializeOptions(values), 'x.yaml').values).toEqual(values);
  });
});

describe('flow commands', () => {
  it('marks, toggles and unmarks flows, firing update', async () => {
    const tctx = await context();
    const [a, b] = store(tctx, tflow(), tflow());
    await tctx.command('flow.mark @all :star:');
    expect([a!.marked, b!.marked]).toEqual([':star:', ':star:']);
    await tctx.command('flow.mark.toggle @all');
    expect(a!.marked).toBe('');
    await tctx.command('flow.mark.toggle @all');
    expect(a!.marked).toBe(':default:');
    await tctx.command('flow.mark @all ""');
    expect(b!.marked).toBe('');
    await expect(tctx.command('flow.mark @all nonsense')).rejects.toThrow(/Invalid marker value "nonsense"/);
    expect(tctx.addon<Updates>('updates').seen).toHaveLength(4);
  });

  it('resumes intercepted flows and kills live ones', async () => {
    const tctx = await context();
    const [a, b] = store(tctx, tflow(), tflow());
    a!.live = true;
    a!.intercept();
    await tctx.command('flow.resume @all');
    expect(a!.intercepted).toBe(false);
    expect(tctx.addon<Updates>('updates').seen.at(-1)).toEqual([a]);
    b!.live = true;
    await tctx.command('flow.kill @all');
    expect(b!.error?.msg).toMatch(/killed/i);
    expect(tctx.hasLog('Killed 2 flows.', 'alert')).toBe(true);
  });

  it('sets request and response attributes, with status codes checked', async () => {
    const tctx = await context();
    const [f] = store(tctx, tflow({ resp: true }));
    const flow = f as HTTPFlow;
    await tctx.command('flow.set @all method PUT');
    await tctx.command('flow.set @all url https://example.org:8443/x?y=1');
    await tctx.command('flow.set @all status_code 404');
    expect(flow.request.method).toBe('PUT');
    expect(flow.request.prettyUrl).toBe('https://example.org:8443/x?y=1');
    expect([flow.response!.statusCode, flow.response!.reason]).toEqual([404, 'Not Found']);
    await tctx.command('flow.set @all reason Gone');
    expect(flow.response!.reason).toBe('Gone');
    await expect(tctx.command('flow.set @all status_code abc')).rejects.toThrow('Status code is not an integer: abc');
    await expect(tctx.command('flow.set @all colour red')).rejects.toThrow(
      /one of host, status_code, method, path, url, reason/,
    );
    expect(tctx.hasLog('Set reason on 1 flows.')).toBe(true);
  });

  it('encodes, decodes and toggles bodies, and reverts the changes', async () => {
    const tctx = await context();
    const [f] = store(tctx, tflow({ resp: true }));
    const flow = f as HTTPFlow;
    flow.response!.text = 'hello hello hello hello';
    const original = Buffer.from(flow.response!.rawContent!);
    await tctx.command('flow.encode @all response gzip');
    expect(flow.response!.headers.get('content-encoding')).toBe('gzip');
    expect(flow.response!.text).toBe('hello hello hello hello');
    await tctx.command('flow.encode @all response br');
    expect(flow.response!.headers.get('content-encoding')).toBe('gzip');
    await tctx.command('flow.decode @all response');
    expect(flow.response!.headers.has('content-encoding')).toBe(false);
    await tctx.command('flow.encode.toggle @all response');
    expect(flow.response!.headers.get('content-encoding')).toBe('deflate');
    await tctx.command('flow.revert @all');
    expect(flow.response!.rawContent).toEqual(original);
    expect(flow.response!.headers.has('content-encoding')).toBe(false);
    await expect(tctx.command('flow.encode @all response compress')).rejects.toThrow(/one of gzip, deflate, br, zstd/);
  });

  it('reports a body that does not decode as a command error', async () => {
    const tctx = await context();
    const [f] = store(tctx, tflow({ resp: true }));
    const flow = f as HTTPFlow;
    flow.response!.headers.set('content-encoding', 'gzip');
    flow.response!.rawContent = Buffer.from('not gzip');
    await expect(tctx.command('flow.decode @all response')).rejects.toThrow(
      `Cannot decode the body of flow ${flow.id}`,
    );
  });

  it('comments flows', async () => {
    const tctx = await context();
    const [a] = store(tctx, tflow());
    await tctx.command('flow.comment @all "looks odd"');
    expect(a!.comment).toBe('looks odd');
    expect(tctx.addon<Updates>('updates').seen.at(-1)).toEqual([a]);
  });
});

describe('through a running proxy', () => {
  it('`set` changes what the proxy does to the next request, and flow commands see its flows', async () => {
    const origin = await startOrigin((_req, res) => res.end('ok'));
    const proxy = await createProxy({ addons: [Core, Comment, AntiCache] });
    const fetchVia = () => requestVia(proxy, `${origin.url}/`, { headers: { 'if-none-match': '"v1"' } });
    try {
      await fetchVia();
      await proxy.kernel.commands.execute('set anticache true');
      await fetchVia();
      expect(origin.requests.map((r) => r.headers['if-none-match'])).toEqual(['"v1"', undefined]);
      await proxy.kernel.commands.execute('flow.mark "~h if-none-match" :star:');
      const flows = proxy.flows.all() as HTTPFlow[];
      expect(flows.map((f) => f.marked)).toEqual([':star:', '']);
    } finally {
      await proxy.close();
      await origin.close();
    }
  });
});
