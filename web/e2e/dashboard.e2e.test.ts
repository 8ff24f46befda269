// The dashboard in a real browser (Debian's Chromium through playwright-core) against a whole
// Relearn on the test PostgreSQL: predict, give feedback, watch the numbers move, retrain, roll back.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateNewBatch } from '../../server/src/tasks/data/fraud-generator.js';
import { ADMIN_TOKEN, SUBMIT_FEEDBACK, startTestApp, type TestApp } from '../../server/test/test-app.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const artifacts = path.join(root, 'test-artifacts');
const CHROMIUM = '/usr/bin/chromium';

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

/** A number shown in a figure tile. */
async function figure(page: Page, testId: string): Promise<number> {
  return Number(await page.getByTestId(testId).locator('.value').textContent());
}

describe('the dashboard', () => {
  let sut: TestApp;
  let browser: BrowserContext;
  let page: Page;
  let profile: string;

  beforeAll(async () => {
    ensureChromium();
    // Builds web/dist when it is missing or older than its sources (what `npm start` does).
    run(process.execPath, [path.join(root, 'scripts/ensure-installed.mjs')]);
    await mkdir(artifacts, { recursive: true });
    profile = await mkdtemp(path.join(tmpdir(), 'relearn-chromium-'));
    sut = await startTestApp();
    // A fresh profile directory (playwright passes it as --user-data-dir).
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
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('pageerror', (error) => console.error('[browser]', error));
  });

  afterAll(async () => {
    await browser?.close();
    await sut?.stop();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it('is served at / with hashed, immutable assets', async () => {
    const res = await fetch(`${sut.url}/`);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${sut.url}${script}`);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toContain('immutable');
  });

  it('predicts from a generated form, takes feedback and moves the numbers without a reload', async () => {
    await page.goto(`${sut.url}/#fraud`);
    await expect.poll(() => page.getByTestId('connection').textContent()).toContain('Live');
    await expect.poll(() => page.getByTestId('feedback-count').count()).toBe(1);
    const feedbackBefore = await figure(page, 'feedback-count');
    const predictionsBefore = await figure(page, 'prediction-count');
    const pointsBefore = Number(await page.getByTestId('accuracy-chart').getAttribute('data-points'));

    // Out of range: shown next to the field, nothing sent.
    await page.getByLabel('Amount', { exact: true }).fill('-5');
    await page.getByRole('button', { name: 'Predict' }).click();
    await expect.poll(() => page.getByTestId('error-amount').textContent()).toBe('Must be greater than 0');
    await expect.poll(() => page.getByTestId('error-hour').textContent()).toBe('Required');

    await page.getByLabel('Amount', { exact: true }).fill('1900');
    await page.getByLabel('Hour').fill('3');
    await page.getByLabel('Day of week').fill('2');
    await page.getByLabel('Merchant category').fill('electronics');
    await page.getByLabel('Previous amount').fill('35');
    await page.getByLabel('Time since last').fill('0.2');
    await page.getByRole('button', { name: 'Predict' }).click();

    await expect.poll(() => page.getByTestId('predicted-label').textContent()).toMatch(/^(legit|fraud)$/);
    expect(await page.getByTestId('serving-version').textContent()).toBe('v1');
    expect(await page.getByRole('meter').count()).toBe(2);
    expect(await page.getByTestId('error-amount').textContent()).toBe('');
    await expect.poll(() => figure(page, 'prediction-count')).toBe(predictionsBefore + 1);

    await page.getByRole('button', { name: 'Correct', exact: true }).click();
    await expect.poll(() => page.getByTestId('feedback-sent').textContent()).toContain('(correct)');
    await expect.poll(() => figure(page, 'feedback-count')).toBe(feedbackBefore + 1);
    await expect.poll(async () => Number(await page.getByTestId('accuracy-chart').getAttribute('data-points'))).toBeGreaterThan(pointsBefore);

    // Feedback from elsewhere arrives through metricsUpdated: the chart grows as it comes.
    for (const seed of [1, 2, 3]) {
      const rows = generateNewBatch(15, { seed, drift: seed / 3, fraudRate: 0.3 });
      const predicted = await sut.gql(`mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id } }`, {
        inputs: rows.map((r) => ({ fraud: r.input })),
      });
      for (const [i, p] of (predicted.data.predictBatch as { id: string }[]).entries()) {
        await sut.gql(SUBMIT_FEEDBACK, { input: { predictionId: p.id, actual: rows[i]!.label } });
      }
      await expect.poll(() => figure(page, 'feedback-count')).toBe(feedbackBefore + 1 + 15 * seed);
    }
    expect(Number(await page.getByTestId('accuracy-chart').getAttribute('data-points'))).toBeGreaterThanOrEqual(pointsBefore + 3);
  });

  it('retrains with the admin token and follows the job to its outcome', async () => {
    expect(await page.getByRole('button', { name: 'Retrain now' }).isDisabled()).toBe(true);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByLabel('Reason').first().fill('dashboard end-to-end test');
    await page.getByRole('button', { name: 'Retrain now' }).click();
    await expect.poll(() => page.getByTestId('retrain-state').textContent(), { timeout: 90_000, interval: 250 }).toMatch(/^(PROMOTED|REJECTED)$/);
    expect(await page.getByRole('progressbar', { name: 'Retrain progress' }).getAttribute('aria-valuenow')).toBe('100');
    expect(await page.getByTestId('retrain-jobs').textContent()).toContain('dashboard end-to-end test');
    await expect.poll(() => page.getByTestId('version-2').count()).toBe(1);
  });

  it('rolls back to version 1 after a confirmation and shows it live', async () => {
    // When the gate rejected version 2, make it live first (same dialog) so there is something to roll back.
    if ((await page.getByTestId('version-1-status').textContent()) === 'LIVE') {
      await page.getByRole('button', { name: 'Make live to version 2' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click();
      await expect.poll(() => page.getByTestId('live-version').textContent()).toBe('v2');
    }
    await expect.poll(() => page.getByTestId('version-2-status').textContent()).toBe('LIVE');
    await page.getByRole('button', { name: 'Roll back to version 1' }).click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.isVisible()).toBe(true);
    await dialog.getByLabel('Reason').fill('roll back from the e2e test');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => page.getByTestId('version-1-status').textContent()).toBe('LIVE');
    await expect.poll(() => page.getByTestId('live-version').textContent()).toBe('v1');
    expect(await page.getByTestId('version-2-status').textContent()).toBe('RETIRED');
    expect(await page.getByTestId('version-1').textContent()).toContain('roll back from the e2e test');
  });

  it('fits a laptop and a phone (screenshots in test-artifacts/)', async () => {
    // The series survived entering the token, the retrain and the rollback.
    expect(Number(await page.getByTestId('accuracy-chart').getAttribute('data-points'))).toBeGreaterThanOrEqual(4);
    await page.screenshot({ path: path.join(artifacts, 'dashboard-desktop.png'), fullPage: true });
    if (process.env.UPDATE_SCREENSHOTS === '1') {
      await page.screenshot({ path: path.join(root, 'docs/dashboard.png'), fullPage: true });
    }
    await page.setViewportSize({ width: 390, height: 844 });
    // One column: nothing wider than the phone's viewport.
    const overflowing = () =>
      page.evaluate(() =>
        [...document.querySelectorAll('body *')]
          .filter((e) => e.getBoundingClientRect().right > 391 && !e.parentElement?.closest('.table-scroll'))
          .map((e) => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`),
      );
    await expect.poll(overflowing).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: path.join(artifacts, 'dashboard-phone.png'), fullPage: true });
  });
});
