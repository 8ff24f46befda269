// What the dashboard's browser tests share: Debian's Chromium (installed with apt-get when missing,
// never a downloaded browser), the dashboard built as `npm start` builds it, and a fresh browser
// profile with the network cut.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Where each run's screenshots go (docs/ only with UPDATE_SCREENSHOTS=1). */
export const artifacts = path.join(root, 'test-artifacts');
const CHROMIUM = '/usr/bin/chromium';

function run(command: string, args: string[]) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`\`${command} ${args.join(' ')}\` failed (${result.error?.message ?? `exit ${result.status}`})`);
}

export interface OfflineBrowser {
  browser: BrowserContext;
  page: Page;
  /** Every request (and websocket) for somewhere other than 127.0.0.1: refused, and listed here. */
  external: string[];
  close(): Promise<void>;
}

/**
 * Chromium installed, web/dist built when missing or older than its sources (scripts/ensure-installed.mjs),
 * then a headless browser on a fresh profile in which anything not for the app on 127.0.0.1 fails,
 * as on a machine without internet.
 */
export async function openOfflineBrowser(): Promise<OfflineBrowser> {
  if (!existsSync(CHROMIUM)) {
    run('apt-get', ['update']);
    run('apt-get', ['install', '-y', 'chromium']);
    if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium but ${CHROMIUM} is missing`);
  }
  run(process.execPath, [path.join(root, 'scripts/ensure-installed.mjs')]);
  await mkdir(artifacts, { recursive: true });
  // A fresh profile directory (playwright passes it as --user-data-dir).
  const profile = await mkdtemp(path.join(tmpdir(), 'relearn-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
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
  const external: string[] = [];
  await browser.route(
    (url) => url.hostname !== '127.0.0.1',
    (route) => {
      external.push(route.request().url());
      return route.abort('internetdisconnected');
    },
  );
  await browser.routeWebSocket(
    (url) => url.hostname !== '127.0.0.1',
    (ws) => {
      external.push(ws.url());
      return ws.close();
    },
  );
  const page = browser.pages()[0] ?? (await browser.newPage());
  page.on('pageerror', (error) => console.error('[browser]', error));
  return {
    browser,
    page,
    external,
    close: async () => {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
