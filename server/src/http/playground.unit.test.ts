import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLAYGROUND_QUERY, renderPlayground } from './playground.js';
import { createStaticFiles } from './static-files.js';

describe(renderPlayground.name, () => {
  let server: Server;
  let url: string;
  let page: string;

  beforeAll(async () => {
    // No dashboard built: the playground's files do not depend on web/dist.
    const serve = createStaticFiles('/nonexistent-relearn-dist');
    server = createServer((req, res) => {
      serve(req, res).then(
        (handled) => {
          if (!handled) res.writeHead(404).end('not found');
        },
        (error: Error) => res.writeHead(500).end(error.message),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    page = await renderPlayground({ title: 'Relearn <playground>', defaultQuery: PLAYGROUND_QUERY, subscriptionsProtocol: 'WS' });
  });
  afterAll(() => server?.close());

  it('is a small page that names only files of its own, with the options escaped', () => {
    expect(page.length).toBeLessThan(10_000);
    expect(page).not.toMatch(/https?:\/\//);
    expect(page).toContain('<title>Relearn &#60;playground&#62;</title>');
    const options = /<script type="application\/json" id="graphiql-options">(.*?)<\/script>/s.exec(page)![1]!;
    expect(JSON.parse(options)).toMatchObject({ title: 'Relearn <playground>', subscriptionsProtocol: 'WS' });
  });

  it('serves each file it names, hashed and cached for good, gzipped when asked', async () => {
    const paths = [...page.matchAll(/"(\/graphiql\/[^"]+)"/g)].map((m) => m[1]!);
    expect(paths.length).toBeGreaterThanOrEqual(6);
    for (const path of paths) {
      const res = await fetch(`${url}${path}`, { headers: { 'accept-encoding': 'gzip' } });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('content-type')).toMatch(path.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
      await res.arrayBuffer();
    }
    const etag = (await fetch(`${url}${paths[0]}`)).headers.get('etag')!;
    expect((await fetch(`${url}${paths[0]}`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await fetch(`${url}/graphiql/nothing-0000.js`)).status).toBe(404);
  });
});
