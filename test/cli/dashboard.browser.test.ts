/**
 * The dashboard in a real headless Chromium (Debian's `chromium` package, driven with playwright-core):
 * it lists runs, opens one and shows its timeline, shows a workflow run's DAG, updates live, and its forms
 * push events and start runs. Saves docs/dashboard.png when UPDATE_SCREENSHOT=1 or when it does not exist.
 * Without /usr/bin/chromium the test is skipped, saying so.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { REPO, startHarness, type Harness } from './helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = join(REPO, 'docs', 'dashboard.png');
const hasChromium = existsSync(CHROMIUM);
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'SKIPPED']);

if (!hasChromium) {
  test.skip(`dashboard browser test: SKIPPED because ${CHROMIUM} is absent (install it with: apt-get install -y chromium)`, () => {});
} else {
  describe('the dashboard in headless Chromium', () => {
    let h: Harness;
    let browser: Browser;
    let page: Page;
    const ids: Record<string, string> = {};
    const pageErrors: string[] = [];

    const start = async (name: string, input: unknown) => (await h.env.durable.engine.start(name, input)).runId;

    beforeAll(async () => {
      h = await startHarness();
      // Spread over virtual time, so the list shows distinct times and durations.
      ids.charge = await start('charge-card', { amount: 12 });
      await h.env.advanceTime('4m');
      ids.failed = await start('always-fails', {});
      await h.env.advanceTime('3m');
      ids.order = await start('process-order', { orderId: 'web-1', amount: 42 });
      await h.env.advanceTime('2m');
      ids.approval = await start('await-approval', { doc: 'design-doc' });
      await h.env.advanceTime('90s');
      // The workflow starts from an event it listens to (onEvents), as it would in an app.
      await h.env.durable.events.push('order:placed', { total: 30 });
      await h.env.settle();
      const [workflowRun] = await h.env.durable.runs.list({ name: 'order-fulfilment' });
      ids.workflow = workflowRun?.runId ?? (await start('order-fulfilment', { total: 30 }));
      await h.env.settle();

      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
      });
      page = await browser.newPage({ viewport: { width: 1400, height: 900 }, colorScheme: 'light' });
      page.on('pageerror', (error) => pageErrors.push(error.message));
    }, 30_000);

    afterAll(async () => {
      await browser?.close();
      await h?.close();
    });

    const row = (runId: string) => page.locator(`tbody tr[data-run-id="${runId}"]`);

    test('lists the runs with their status badges', async () => {
      await page.goto(h.server.url);
      await row(ids.order!).waitFor();
      for (const [key, status] of [
        ['order', 'WAITING'],
        ['approval', 'WAITING'],
        ['failed', 'FAILED'],
        ['charge', 'SUCCEEDED'],
      ] as const) {
        await expect.poll(() => row(ids[key]!).getAttribute('data-status')).toBe(status);
        expect(await row(ids[key]!).locator('.badge').innerText()).toBe(status);
      }
      expect(await row(ids.order!).locator('td').nth(1).innerText()).toBe('process-order');
    });

    test('opens a run: its timeline shows the step, the child run and the wait with key, CEL and scope', async () => {
      await row(ids.order!).click();
      const detail = page.locator(`.detail[data-run-id="${ids.order}"]`);
      await detail.waitFor();
      const ops = detail.locator('ol.timeline li.op');
      await expect.poll(() => ops.count()).toBe(3);
      expect(await ops.nth(0).getAttribute('data-kind')).toBe('step');
      expect(await ops.nth(0).innerText()).toContain('reserve-stock');
      expect(await ops.nth(1).getAttribute('data-kind')).toBe('child');
      expect(await ops.nth(1).locator('a').getAttribute('href')).toMatch(/#\/runs\//);
      const wait = ops.nth(2);
      expect(await wait.getAttribute('data-status')).toBe('waiting');
      const text = await wait.innerText();
      expect(text).toContain('order:shipped');
      expect(text).toContain('input.orderId == "web-1"');
      expect(text).toContain('tenant-a');
    });

    test('updates live: an event pushed elsewhere moves the timeline on', async () => {
      await h.env.durable.events.push('order:shipped', { orderId: 'web-1' }, { scope: 'tenant-a' });
      await h.env.settle();
      const ops = page.locator(`.detail[data-run-id="${ids.order}"] ol.timeline li.op`);
      await expect.poll(() => ops.count(), { timeout: 5000 }).toBe(4);
      expect(await ops.nth(2).getAttribute('data-status')).toBe('done');
      expect(await ops.nth(3).getAttribute('data-kind')).toBe('sleep');
      // A sleep still ahead is pending (the API says `sleeping`), with its due date, time and zone.
      const due = (await h.env.durable.runs.get(ids.order!)).operations[3]!;
      expect(due.status).toBe('sleeping');
      expect(await ops.nth(3).getAttribute('data-status')).toBe('waiting');
      const sleepText = (await ops.nth(3).innerText()).toLowerCase();
      expect(sleepText).toContain('sleeping');
      expect(sleepText).toContain(`until ${due.dueAt!.replace('T', ' ').replace(/\.\d+Z$/, ' utc')}`);
    });

    test("the API's attempt, and times with date and zone", async () => {
      const detail = page.locator(`.detail[data-run-id="${ids.order}"]`);
      const meta = async (key: string) => detail.locator('.meta > div').filter({ has: page.locator(`span:text-is("${key}")`) }).locator('span').nth(1).innerText();
      expect(await meta('attempt')).toBe(String((await h.env.durable.runs.get(ids.order!)).attempt));
      expect(await meta('attempt')).toBe('0');
      const created = (await h.env.durable.runs.get(ids.order!)).createdAt.toISOString();
      expect(await meta('created')).toBe(created.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'));
      expect(await row(ids.order!).locator('td').nth(3).innerText()).toMatch(/^\d{4}-\d{2}-\d{2}\s\d{2}:\d{2}:\d{2}\sUTC$/);
      for (const t of await detail.locator('.op-time').allInnerTexts()) expect(t).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/);
    });

    test('the run id of an event-started run stays legible, its full id in the title', async () => {
      const cell = row(ids.workflow!).locator('td').nth(2);
      const text = await cell.innerText();
      const [name, eventId] = ids.workflow!.split(':') as [string, string];
      expect(name).toBe('order-fulfilment');
      expect(text).toBe(`order-fulfilment:${eventId.slice(0, 8)}…${eventId.slice(-4)}`);
      expect(await cell.getAttribute('title')).toBe(ids.workflow);
    });

    test('a workflow run shows its DAG as SVG: one node per task, an edge per parent link', async () => {
      await page.goto(`${h.server.url}/#/runs/${encodeURIComponent(ids.workflow!)}`);
      const svg = page.locator('svg[data-testid="dag"]');
      await svg.waitFor();
      const names = await svg.locator('g.node').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-task')));
      expect(names.sort()).toEqual(['charge', 'gift-wrap', 'notify', 'reserve-stock', 'ship', 'validate']);
      expect(await svg.locator('path.edge').count()).toBe(7);
      const status = (task: string) => svg.locator(`g.node[data-task="${task}"]`).getAttribute('data-status');
      await expect.poll(() => status('ship')).toBe('WAITING');
      expect(await status('validate')).toBe('SUCCEEDED');
      expect(await status('gift-wrap')).toBe('SKIPPED');
      expect(await status('notify')).toBe('PENDING');
      // Started by its event: the trigger shows, from the run's metadata.
      expect(await page.locator('[data-testid="trigger"]').innerText()).toBe('started by event order:placed');
      // The timeline reads in time order.
      const times = await page.locator('.detail ol.timeline li.op .op-time').evaluateAll((els) => els.map((e) => Date.parse(e.getAttribute('title')!)));
      expect(times.length).toBeGreaterThan(1);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      if (process.env.UPDATE_SCREENSHOT === '1' || !existsSync(SCREENSHOT)) {
        mkdirSync(dirname(SCREENSHOT), { recursive: true });
        await page.locator('.detail').waitFor();
        await page.screenshot({ path: SCREENSHOT, fullPage: true });
      }
    });

    test('a workflow run started by hand shows no event trigger', async () => {
      const byHand = await start('order-fulfilment', { total: 30 });
      await h.env.settle();
      await page.goto(`${h.server.url}/#/runs/${encodeURIComponent(byHand)}`);
      await page.locator(`.detail[data-run-id="${byHand}"] svg[data-testid="dag"]`).waitFor();
      expect(await page.locator('.detail').innerText()).not.toContain('order:placed');
      expect(await page.locator('[data-testid="trigger"]').count()).toBe(0);
    });

    test("a live run's page settles for a headless screenshot: `load` with the stream on, network idle with ?live=0", async () => {
      const live = await browser.newPage({ viewport: { width: 1200, height: 800 } });
      const paused = await browser.newPage({ viewport: { width: 1200, height: 800 } });
      try {
        expect(TERMINAL.has((await h.env.durable.runs.get(ids.approval!)).status)).toBe(false);
        await live.goto(`${h.server.url}/#/runs/${encodeURIComponent(ids.approval!)}`, { waitUntil: 'load', timeout: 10_000 });
        await live.locator(`.detail[data-run-id="${ids.approval}"]`).waitFor({ timeout: 10_000 });
        expect((await live.screenshot({ timeout: 10_000 })).length).toBeGreaterThan(1000);
        // The stream opens once the page has loaded, and keeps it live.
        await expect.poll(() => live.locator('#live-text').innerText()).toBe('live');
        await paused.goto(`${h.server.url}/?live=0#/runs/${encodeURIComponent(ids.approval!)}`, { waitUntil: 'networkidle', timeout: 10_000 });
        await paused.locator(`.detail[data-run-id="${ids.approval}"]`).waitFor({ timeout: 10_000 });
        await paused.waitForLoadState('networkidle', { timeout: 10_000 });
        expect((await paused.screenshot({ fullPage: true, timeout: 10_000 })).length).toBeGreaterThan(1000);
      } finally {
        await live.close();
        await paused.close();
      }
    });

    test("chromium's own --screenshot with a virtual time budget finishes on a live run's page with ?live=0", async () => {
      expect(TERMINAL.has((await h.env.durable.runs.get(ids.approval!)).status)).toBe(false);
      const file = join(mkdtempSync(join(tmpdir(), 'dash-')), 'shot.png');
      const url = `${h.server.url}/?live=0#/runs/${encodeURIComponent(ids.approval!)}`;
      // Virtual time only advances while no request is pending: an open event stream would hold it for ever.
      const child = spawn(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--virtual-time-budget=3000', `--screenshot=${file}`, '--window-size=1200,800', url], { stdio: 'ignore' });
      const killer = setTimeout(() => child.kill('SIGKILL'), 25_000);
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      clearTimeout(killer);
      expect(code).toBe(0);
      expect(statSync(file).size).toBeGreaterThan(1000);
    }, 40_000);

    test('the push form resumes a waiting run', async () => {
      await page.goto(`${h.server.url}/#/runs/${encodeURIComponent(ids.approval!)}`);
      await page.locator(`.detail[data-run-id="${ids.approval}"]`).waitFor();
      // The waiting event's "Push…" button fills in the key.
      await page.locator('li.op[data-status="waiting"] button', { hasText: 'Push' }).click();
      expect(await page.locator('#push-key').inputValue()).toBe('doc:approved');
      await page.locator('#push-payload').fill('{"doc":"design-doc"}');
      await page.locator('#push-form button[type=submit]').click();
      await expect.poll(() => page.locator('#push-msg').innerText()).toMatch(/^pushed doc:approved/);
      await h.env.settle();
      await expect.poll(() => page.locator(`.detail[data-run-id="${ids.approval}"]`).getAttribute('data-status'), { timeout: 5000 }).toBe('SUCCEEDED');
    });

    test('the start form starts a run and opens it', async () => {
      await page.locator('#open-start').click();
      await page.locator('#start-name').selectOption('charge-card');
      await page.locator('#start-input').fill('{"amount":77}');
      await page.locator('#start-form button[type=submit]').click();
      await expect.poll(() => page.url()).not.toContain(encodeURIComponent(ids.approval!));
      const runId = decodeURIComponent(/#\/runs\/(.+)$/.exec(page.url())![1]!);
      expect((await h.env.durable.runs.get(runId)).name).toBe('charge-card');
      await h.env.settle();
      const detail = page.locator(`.detail[data-run-id="${runId}"]`);
      await expect.poll(() => detail.getAttribute('data-status'), { timeout: 5000 }).toBe('SUCCEEDED');
      expect(await detail.innerText()).toContain('"charged": 77');
    });

    test("a run's Download history button saves its recorded history (JSON, format 1)", async () => {
      await page.goto(`${h.server.url}/#/runs/${encodeURIComponent(ids.order!)}`);
      const button = page.locator(`.detail[data-run-id="${ids.order}"] [data-testid="export-run"]`);
      await button.waitFor();
      const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
      expect(download.suggestedFilename()).toBe(`process-order-${ids.order}.json`);
      const history = JSON.parse(readFileSync((await download.path())!, 'utf8'));
      expect(history).toMatchObject({ format: 1, runId: ids.order, name: 'process-order' });
      expect(history.entries[0]).toMatchObject({ position: 0, kind: 'step', name: 'reserve-stock', status: 'done' });
    });

    test('the page raised no script errors', () => {
      expect(pageErrors).toEqual([]);
    });
  });
}
