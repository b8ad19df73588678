// The web UI in headless Chromium (Debian's, driven by playwright-core) against a running proxy
// with curl as the client: live rows, filters and their errors, the intercept addon's filter
// set in the page and a held request edited and resumed or killed, export (the curl command run)
// and client replay (seen by the server), auth, and the virtual table at 20,000 flows, with the
// real intercept, export and clientplayback addons. Screenshots go to test-artifacts/web/
// (ignored by git). Chromium is installed by the test where it can be.
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { parseFilter, type HTTPFlow } from '@mitmts/sdk';
import { tflow, treq } from '@mitmts/sdk/testing';
import { Core } from '@mitmts/addon-corecommands';
import { CHROMIUM_ARGS, ensureChromium } from '../../../test/helpers/browser.js';
import { Intercept } from '@mitmts/addon-intercept';
import { Export } from '@mitmts/addon-export';
import { ClientPlayback } from '@mitmts/addon-clientplayback';
import { flowRow } from '../src/flow-json.js';
import { startWeb, type WebRig } from './helpers.js';

const run = promisify(execFile);

/** The page's `document`, as far as the functions evaluated in it use it (the tests compile without the DOM lib). */
interface PageNode {
  readonly textContent: string | null;
}
declare const document: {
  querySelector(s: string): PageNode | null;
  querySelectorAll(s: string): Iterable<PageNode> & { readonly length: number };
  readonly cookie: string;
};
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/web/', import.meta.url));

const tools = ensureChromium();
const missing = 'missing' in tools ? tools.missing : null;
if (missing) console.warn(`web UI browser tests skipped: ${missing}`);

describe.skipIf(missing !== null)('web UI in Chromium', () => {
  let rig: WebRig;
  let browser: Browser;
  let page: Page;

  const curl = (path: string, ...args: string[]): Promise<{ stdout: string }> =>
    run('curl', ['-s', '-x', rig.proxy.url, ...args, `${rig.upstream}${path}`]);
  const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
  const row = (text: string) => page.locator('.flow-row', { hasText: text });

  /** The table's rows as shown: top, classes and cell texts, from the top down. */
  const shownRows = (p: Page): Promise<string[]> =>
    p.locator('.flow-row').evaluateAll((rows) =>
      rows
        .map((r) => [parseFloat((r as unknown as { style: { top: string } }).style.top), r] as const)
        .sort((a, b) => a[0] - b[0])
        .map(([top, r]) => `${top} ${r.className} ${[...r.children].map((c) => c.textContent).join('|')}`),
    );

  async function setFilter(text: string): Promise<void> {
    await page.fill('input[name=filter]', text);
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    rig = await startWeb([Core, Intercept, Export, ClientPlayback]);
    browser = await chromium.launch({
      executablePath: (tools as { chromium: string }).chromium,
      args: [...CHROMIUM_ARGS],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    await page.goto(`${rig.base}/?token=${rig.token}`);
    await page.waitForSelector('.counts');
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await rig?.close();
  });

  it('shows flows made by curl as they happen', async () => {
    await curl('/live/one');
    await row('/live/one').waitFor();
    await curl('/live/two');
    await row('/live/two').waitFor();
    // the row may show before the update that carries its response: wait for the status
    await row('/live/two').locator('.c-status', { hasText: /^200$/ }).waitFor({ timeout: 10_000 });
    await shot('live');
  });

  it("narrows with a filter and shows an invalid filter's error (the CLI's message)", async () => {
    await setFilter('~u /live/two');
    await page.waitForFunction(() => document.querySelectorAll('.flow-row').length === 1);
    await expect(page.locator('.flow-row').textContent()).resolves.toContain('/live/two');
    let expected = '';
    try {
      parseFilter('~c abc');
    } catch (err) {
      expected = (err as Error).message;
    }
    await setFilter('~c abc');
    await expect(page.locator('.filter-error').textContent({ timeout: 5000 })).resolves.toBe(expected);
    await shot('filter-error');
    await setFilter('');
    await page.waitForSelector('.filter-error', { state: 'detached' });
  });

  it('searches response bodies on the server (~bs)', async () => {
    await curl('/body/needle');
    await setFilter('~bs "hello /body/needle"');
    await page.waitForFunction(() => document.querySelectorAll('.flow-row').length === 1);
    await expect(page.locator('.flow-row').textContent()).resolves.toContain('/body/needle');
    await setFilter('');
  });

  it('sets the intercept filter in the page; a held request is edited and resumed: the server sees the edit', async () => {
    const box = page.locator('input[name=intercept]');
    await box.fill('~u /hold & ~q');
    await box.press('Enter');
    await expect.poll(() => rig.proxy.kernel.options.get('intercept')).toBe('~u /hold & ~q');
    const done = curl('/hold/ui', '-H', 'x-token: before');
    await row('/hold/ui').locator('.tag', { hasText: 'held' }).waitFor();
    await row('/hold/ui').click();
    await page.locator('.first-line button', { hasText: 'Edit' }).click();
    const headers = page.locator('textarea[name=headers]');
    await headers.fill((await headers.inputValue()).replace('x-token: before', 'x-token: after'));
    await shot('intercept-edit');
    await page.locator('button', { hasText: 'Save' }).click();
    await page.locator('.headers td', { hasText: 'after' }).waitFor();
    await page.locator('.toolbar button', { hasText: 'Resume' }).click();
    const { stdout } = await done;
    expect(stdout).toBe('hello /hold/ui');
    expect(rig.last!.headers['x-token']).toBe('after');
    await row('/hold/ui').locator('.c-status', { hasText: '200' }).waitFor();
  });

  it('kills a held request from the page: the server never sees it, curl gets no response, the flow shows the error', async () => {
    const before = rig.last;
    const done = curl('/hold/kill', '-w', '%{http_code}').then(
      () => 'answered',
      (e: { code: number }) => `curl exit ${e.code}`,
    );
    await row('/hold/kill').locator('.tag', { hasText: 'held' }).waitFor();
    await row('/hold/kill').click();
    await page.locator('.toolbar button', { hasText: 'Kill' }).click();
    expect(await done).toBe('curl exit 52');
    expect(rig.last).toBe(before);
    await page.locator('p.error', { hasText: 'Error: Connection killed.' }).waitFor();
    rig.proxy.kernel.options.update({ intercept: null });
  });

  it("exports as curl: the text is the export command's, and running it reaches the server", async () => {
    await row('/live/one').click();
    await page.locator('.toolbar select[aria-label=export]').selectOption('curl');
    const flow = rig.proxy.flows.all().find((f) => (f as HTTPFlow).request.path === '/live/one')!;
    const text = await page.locator('.export-text').inputValue();
    expect(text).toBe(await rig.proxy.command('export', 'curl', flow));
    await shot('export');
    await page.locator('.modal button', { hasText: 'Close' }).click();
    const { stdout } = await run('sh', ['-c', `${text} -s`]);
    expect(stdout).toBe('hello /live/one');
  });

  it('replays a flow from the page: the server sees the request again, the row is tagged replay with the new response', async () => {
    await curl('/replay/me', '-H', 'x-n: 1');
    await curl('/live/after');
    await row('/replay/me').click();
    await page.locator('.toolbar button', { hasText: 'Replay' }).click();
    await expect.poll(() => rig.last?.path).toBe('/replay/me');
    expect(rig.last!.headers['x-n']).toBe('1');
    await row('/replay/me').locator('.tag', { hasText: 'replay' }).waitFor();
    await row('/replay/me').locator('.c-status', { hasText: '200' }).waitFor();
    const flow = rig.proxy.flows.all().find((f) => (f as HTTPFlow).request.path === '/replay/me') as HTTPFlow;
    expect([flow.isReplay, flow.live]).toEqual(['request', false]);
    await shot('replay');
  });

  it('marks, comments, duplicates and deletes from the toolbar', async () => {
    await row('/live/two').click();
    await page.locator('.toolbar button', { hasText: /^Mark$/ }).click();
    await row('/live/two').locator('.tag.mark').waitFor();
    page.once('dialog', (d) => void d.accept('a note'));
    await page.locator('.toolbar button', { hasText: 'Comment' }).click();
    await page.locator('.comment', { hasText: 'a note' }).waitFor();
    await page.locator('.toolbar button', { hasText: 'Duplicate' }).click();
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('.flow-row')].filter((r) => r.textContent!.includes('/live/two')).length === 2,
    );
    await row('/live/two').last().click();
    await page.locator('.toolbar button', { hasText: 'Delete' }).click();
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('.flow-row')].filter((r) => r.textContent!.includes('/live/two')).length === 1,
    );
  });

  it('shows JSON bodies pretty-printed and the connection details', async () => {
    await curl('/json/x', '-d', 'a=1');
    await row('/json/x').click();
    await page.locator('.tabs button', { hasText: 'response' }).click();
    await expect(page.locator('pre.body.json').textContent()).resolves.toBe(
      JSON.stringify({ path: '/json/x', body: 'a=1' }, null, 2),
    );
    await page.locator('.tabs button', { hasText: 'connection' }).click();
    await page.locator('.kv th', { hasText: 'address' }).waitFor();
    await shot('detail');
  });

  it("sets options with the command line's errors", async () => {
    await page.locator('header button', { hasText: 'Options' }).click();
    const input = page.locator('tr[data-option=tcp_timeout] input');
    await input.fill('soon');
    await input.press('Enter');
    await expect(page.locator('tr[data-option=tcp_timeout] .error').textContent()).resolves.toBe(
      'Option tcp_timeout: expected int, got "soon".',
    );
    await input.fill('30');
    await input.press('Enter');
    await page.locator('tr[data-option=tcp_timeout] .error').waitFor({ state: 'detached' });
    expect(rig.proxy.kernel.options.get('tcp_timeout')).toBe(30);
    await page.locator('header button', { hasText: 'Flows' }).click();
  });

  it('keeps fewer than 100 rows in the DOM with 20,000 flows, also at the end', async () => {
    const server = rig.web.server!;
    const add = (path: string): void => {
      const f = tflow({ req: treq({ path: Buffer.from(path) }), resp: true });
      rig.proxy.flows.add(f);
      server.hub.touched(f);
    };
    for (let i = 0; i < 20_000; i++) add(`/many/${i}`);
    const urlShown = (path: string) => page.locator('.flow-row .c-url', { hasText: new RegExp(`${path}$`) });
    await page.waitForFunction(() => Number(/\d+/.exec(document.querySelector('.counts')!.textContent!)![0]) >= 20_000);
    await page.locator('.tbody').evaluate((el) => (el.scrollTop = el.scrollHeight));
    await urlShown('/many/19999').waitFor();
    const n = await page.locator('.flow-row').count();
    expect(n).toBeGreaterThan(10);
    expect(n).toBeLessThan(100);
    // Following the end, new rows take over the elements of the rows they push out: the table
    // keeps its elements (those without a row too), it creates none.
    await page.locator('.rows > *').evaluateAll((rows) => rows.forEach((r) => r.setAttribute('data-old', '')));
    for (let i = 0; i < 200; i++) add(`/more/${i}`);
    await urlShown('/more/199').waitFor();
    expect(await page.locator('.flow-row').count()).toBeGreaterThan(10);
    expect(await page.locator('.rows > :not([data-old])').count()).toBe(0);
    // The rows, after all those deltas, are what a page opened now shows at once.
    const fresh = await browser.newPage({ viewport: page.viewportSize()! });
    try {
      await fresh.goto(`${rig.base}/?token=${rig.token}`);
      await fresh.locator('.flow-row .c-url', { hasText: /\/more\/199$/ }).waitFor();
      expect(await shownRows(page)).toEqual(await shownRows(fresh));
    } finally {
      await fresh.close();
    }
    await page.locator('.tbody').evaluate((el) => (el.scrollTop = el.scrollHeight / 2));
    await urlShown('/many/101\\d\\d').first().waitFor();
    expect(await page.locator('.flow-row').count()).toBeLessThan(100);
    await shot('many');
  }, 60_000);

  it('row pool: rows rewritten a few per task (the time budget), states changing meanwhile, end as rewritten at once', async () => {
    const bundle = await esbuild.build({
      entryPoints: [fileURLToPath(new URL('../ui/rows.ts', import.meta.url))],
      bundle: true,
      write: false,
      format: 'iife',
      globalName: 'rowsLib',
      logLevel: 'silent',
    });
    const rows = Array.from({ length: 400 }, (_, i) => {
      const f = tflow({ req: treq({ path: Buffer.from(`/pool/${i}`) }), resp: i % 3 !== 0 });
      if (i % 5 === 0) f.marked = ':star:';
      return flowRow(f, 1);
    });
    const p = await browser.newPage();
    try {
      await p.setContent('<div id="at-once"></div><div id="budget"></div>');
      await p.addScriptTag({ content: bundle.outputFiles[0]!.text });
      // Following the end of a list growing by 9 rows per step (a window of 40), a selection
      // and a changed row on the way; one pool rewrites all at once, the other 3 elements per
      // call, called 0-2 times per step (so states change while it is behind), then until done.
      const result = (await p.evaluate(`(() => {
        const ROWS = ${JSON.stringify(rows)};
        const SLOTS = 24;
        const once = new rowsLib.RowPool(document.getElementById('at-once'));
        const budget = new rowsLib.RowPool(document.getElementById('budget'));
        const look = (el) => [...el.children].filter((r) => r.className.startsWith('flow-row'))
          .map((r) => r.style.top + ' ' + r.className + ' ' + r.dataset.id + ' ' + r.textContent).sort();
        let state = null;
        let calls = 0;
        for (let step = 0; step < 30; step++) {
          const end = 40 + step * 9;
          if (step === 28) ROWS[285] = { ...ROWS[285], status: 500, url: ROWS[285].url + '?changed' };
          const win = ROWS.slice(end - 40, end);
          const selected = step >= 10 ? ROWS[end - 3].id : null;
          state = [win, end - 40, end - SLOTS + 2, SLOTS, selected, 22];
          once.paint(...state);
          for (let k = 0; k < step % 3; k++, calls++) budget.paint(...state, 3);
        }
        while (!budget.paint(...state, 3).done) calls++;
        return { once: look(document.getElementById('at-once')), budget: look(document.getElementById('budget')), calls };
      })()`)) as { once: string[]; budget: string[]; calls: number };
      expect(result.once).toHaveLength(22);
      expect(result.once.join('\n')).toContain('?changed');
      expect(result.once.join('\n')).toContain(' sel ');
      expect(result.budget).toEqual(result.once);
      expect(result.calls).toBeGreaterThan(20);
    } finally {
      await p.close();
    }
  });

  it('asks for the token (login page), refuses a wrong one, and refuses a POST without the XSRF header', async () => {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    const login = await p.goto(rig.base);
    expect(login!.status()).toBe(401);
    await p.locator('form#login input[name=token]').waitFor();
    await p.screenshot({ path: join(ARTIFACTS, 'login.png') });
    expect((await p.goto(`${rig.base}/?token=wrong`))!.status()).toBe(403);
    await p.goto(`${rig.base}/?token=${rig.token}`);
    await p.locator('.counts').waitFor();
    const status = await p.evaluate(async () => (await fetch('/clear', { method: 'POST' })).status);
    expect(status).toBe(403);
    const ok = await p.evaluate(async () => {
      const xsrf = /_mitmproxy_xsrf=([^;]*)/.exec(document.cookie)![1]!;
      return (await fetch('/flows/nope', { method: 'DELETE', headers: { 'X-XSRFToken': xsrf } })).status;
    });
    expect(ok).toBe(404);
    await ctx.close();
  });
});
