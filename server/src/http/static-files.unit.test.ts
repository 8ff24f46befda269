import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaticFiles } from './static-files.js';

async function serve(root: string): Promise<{ server: Server; url: string }> {
  const serveStatic = createStaticFiles(root);
  const server = createServer((req, res) => {
    serveStatic(req, res).then(
      (handled) => {
        if (!handled) res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      },
      // A failure to serve is the test's to see: a 500 with the message, not an unhandled rejection.
      (error: Error) => res.writeHead(500).end(error.message),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` };
}

describe(createStaticFiles.name, () => {
  let dir: string;
  let built: { server: Server; url: string };
  let missing: { server: Server; url: string };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'relearn-static-'));
    await mkdir(path.join(dir, 'dist/assets'), { recursive: true });
    await writeFile(path.join(dir, 'dist/index.html'), '<!doctype html><title>Relearn</title>');
    await writeFile(path.join(dir, 'dist/assets/index-AbCd1234.js'), 'console.log(1)');
    await writeFile(path.join(dir, 'dist/assets/index-AbCd1234.css'), 'body{}');
    await writeFile(path.join(dir, 'secret.txt'), 'outside');
    built = await serve(path.join(dir, 'dist'));
    missing = await serve(path.join(dir, 'nothing-built'));
  });
  afterAll(async () => {
    built?.server.close();
    missing?.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves index.html at / without caching and hashed assets as immutable', async () => {
    const index = await fetch(`${built.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(await index.text()).toContain('<title>Relearn</title>');
    const js = await fetch(`${built.url}/assets/index-AbCd1234.js?v=1`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const css = await fetch(`${built.url}/assets/index-AbCd1234.css`, { method: 'HEAD' });
    expect([css.status, css.headers.get('content-type'), css.headers.get('content-length')]).toEqual([200, 'text/css; charset=utf-8', '6']);
  });

  it('leaves unknown paths and other methods to the API (JSON 404)', async () => {
    const res = await fetch(`${built.url}/nope`);
    expect([res.status, res.headers.get('content-type')]).toEqual([404, 'application/json']);
    expect((await fetch(`${built.url}/`, { method: 'POST' })).status).toBe(404);
  });

  it('refuses paths that leave the directory', async () => {
    for (const p of ['/../secret.txt', '/assets/..%2F..%2Fsecret.txt', '/%2e%2e/secret.txt', '/..%5csecret.txt', '/%00']) {
      const res = await fetch(`${built.url}${p}`);
      expect(await res.text(), p).not.toContain('outside');
      expect([400, 404], p).toContain(res.status);
    }
  });

  it('answers conditional requests with 304 (ETag and Last-Modified)', async () => {
    // As a browser revalidates (fetch itself would add `cache-control: no-cache`, which forbids a 304).
    const revalidate = { 'cache-control': 'max-age=0' };
    const first = await fetch(`${built.url}/assets/index-AbCd1234.js`);
    const etag = first.headers.get('etag');
    const modified = first.headers.get('last-modified');
    expect(etag).toMatch(/^W\/"/);
    expect(modified).not.toBeNull();
    const byTag = await fetch(`${built.url}/assets/index-AbCd1234.js`, { headers: { ...revalidate, 'if-none-match': etag! } });
    expect([byTag.status, await byTag.text()]).toEqual([304, '']);
    const byDate = await fetch(`${built.url}/`, { headers: { ...revalidate, 'if-modified-since': modified! } });
    expect(byDate.status).toBe(304);
    const changed = await fetch(`${built.url}/assets/index-AbCd1234.js`, { headers: { ...revalidate, 'if-none-match': 'W/"other"' } });
    expect([changed.status, await changed.text()]).toEqual([200, 'console.log(1)']);
  });

  it('serves byte ranges, and the whole file when the range is stale', async () => {
    const url = `${built.url}/assets/index-AbCd1234.js`;
    const part = await fetch(url, { headers: { range: 'bytes=0-6' } });
    expect([part.status, part.headers.get('content-range'), await part.text()]).toEqual([206, 'bytes 0-6/14', 'console']);
    const tail = await fetch(url, { headers: { range: 'bytes=-3' } });
    expect([tail.status, await tail.text()]).toEqual([206, '(1)']);
    const beyond = await fetch(url, { headers: { range: 'bytes=100-200' } });
    expect([beyond.status, beyond.headers.get('content-range')]).toEqual([416, 'bytes */14']);
    const stale = await fetch(url, { headers: { range: 'bytes=0-6', 'if-range': 'W/"other"' } });
    expect([stale.status, await stale.text()]).toEqual([200, 'console.log(1)']);
  });

  it('serves a file written after it started (a rebuild shows at once)', async () => {
    expect((await fetch(`${built.url}/assets/later-ZyXw9876.js`)).status).toBe(404);
    await writeFile(path.join(dir, 'dist/assets/later-ZyXw9876.js'), 'later()');
    const later = await fetch(`${built.url}/assets/later-ZyXw9876.js`);
    expect([later.status, later.headers.get('cache-control'), await later.text()]).toEqual([200, 'public, max-age=31536000, immutable', 'later()']);
  });

  it('answers 404 with a hint when the dashboard is not built', async () => {
    const res = await fetch(`${missing.url}/`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('npm run build -w web');
  });
});
