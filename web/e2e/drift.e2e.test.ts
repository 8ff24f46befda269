// The input drift panel in a real browser (Debian's Chromium through playwright-core) against a
// whole Relearn on the test PostgreSQL, after a drift simulation (amounts 4x, a merchant category
// training never had), at 1280 px and at 390 px, with the network cut.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateFraudRows } from '../../server/src/tasks/data/fraud-generator.js';
import { startTestApp, type TestApp } from '../../server/test/test-app.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const artifacts = path.join(root, 'test-artifacts');
const CHROMIUM = '/usr/bin/chromium';
const update = process.env.UPDATE_SCREENSHOTS === '1';

function run(command: string, args: string[]) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`\`${command} ${args.join(' ')}\` failed (${result.error?.message ?? `exit ${result.status}`})`);
}

/** Debian's Chromium: installed with apt-get when missing; never a downloaded browser. */
function ensureChromium() {
  if (existsSync(CHROMIUM)) return;
  run('apt-get', ['update']);
  run('apt-get', ['install', '-y', 'chromium']);
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium but ${CHROMIUM} is missing`);
}

// A browser, PostgreSQL and the app share two busy cores: polls wait up to 20 s (they return as soon as it is there).
vi.setConfig({ expect: { poll: { timeout: 20_000, interval: 100 } } });

describe('the input drift panel', () => {
  let sut: TestApp;
  let browser: BrowserContext;
  let page: Page;
  let profile: string;
  const external: string[] = [];
  const panel = () => page.locator('section[aria-labelledby=drift-title]');

  beforeAll(async () => {
    ensureChromium();
    run(process.execPath, [path.join(root, 'scripts/ensure-installed.mjs')]);
    await mkdir(artifacts, { recursive: true });
    profile = await mkdtemp(path.join(tmpdir(), 'relearn-chromium-'));
    sut = await startTestApp({ env: { DRIFT_CACHE_SECONDS: '0' } });
    // The drift simulation: 300 predictions whose inputs moved away from the training data.
    const moved = generateFraudRows(300, { seed: 21 }).map((r, i) => ({
      fraud: { ...r.input, amount: Math.min(1_000_000, r.input.amount * 4), merchantCategory: i % 3 === 0 ? 'bnpl' : r.input.merchantCategory },
    }));
    const res = await sut.gql(`mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id } }`, { inputs: moved });
    expect(res.errors).toBeUndefined();
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    await browser.route(
      (url) => url.hostname !== '127.0.0.1',
      (route) => {
        external.push(route.request().url());
        return route.abort('internetdisconnected');
      },
    );
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('pageerror', (error) => console.error('[browser]', error));
  });

  afterAll(async () => {
    await browser?.close();
    await sut?.stop();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it('says what drifted, charts the scores over time, and shows a feature live against training', async () => {
    await page.goto(`${sut.url}/#fraud`);
    await expect
      .poll(() => panel().getByTestId('drift-status').textContent())
      .toMatch(/^\s*Drifted: .*amount.*merchantCategory|Drifted: .*merchantCategory.*amount/);
    await expect.poll(() => panel().getByTestId('drift-row').count()).toBe(7); // 6 features + predicted label
    await expect.poll(() => panel().getByTestId('drift-chart').getAttribute('data-drifted')).not.toBe('0');
    // The unseen category, as its own bar, and its share in the table.
    await panel().getByRole('button', { name: 'merchantCategory', exact: true }).click();
    await expect.poll(() => panel().getByTestId('drift-distribution').textContent()).toContain('bnpl (unseen)');
    const row = panel().getByTestId('drift-row').filter({ hasText: 'merchantCategory' });
    expect(await row.locator('td:nth-child(4)').textContent()).toMatch(/3\d\.\d%/);
    await panel().getByRole('button', { name: 'amount', exact: true }).click();
    await expect.poll(() => panel().getByTestId('drift-distribution').getByRole('listitem').count()).toBeGreaterThan(5);
    await panel().screenshot({ path: path.join(artifacts, 'drift-desktop.png') });
    if (update) await panel().screenshot({ path: path.join(root, 'docs/drift.png') });
  });

  it('fits a 390 px phone: nothing but the feature table leaves the screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => panel().getByTestId('drift-row').count()).toBe(7);
    const overflowing = () =>
      page.evaluate(() =>
        [...document.querySelectorAll('section[aria-labelledby=drift-title] *')]
          .filter((e) => e.getBoundingClientRect().right > 391 && !e.parentElement?.closest('.table-scroll'))
          .map((e) => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`),
      );
    await expect.poll(overflowing).toEqual([]);
    expect(await panel().getByTestId('drift-distribution').isVisible()).toBe(true);
    await panel().screenshot({ path: path.join(artifacts, 'drift-phone.png') });
    if (update) await panel().screenshot({ path: path.join(root, 'docs/drift-phone.png') });
    expect(external).toEqual([]);
  });
});
