import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import serveStatic from 'serve-static';
import { playgroundAsset, PLAYGROUND_PREFIX, type PlaygroundAsset } from './playground.js';

/** The built dashboard (npm run build -w web), relative to this file in the repository. */
export const DEFAULT_WEB_DIST = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/** Vite names built assets `name-<hash>.ext` under assets/: they never change, so cache them for good. */
function isHashedAsset(relative: string): boolean {
  return relative.startsWith('assets/') && /-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/.test(relative);
}

/**
 * Serves the built dashboard with serve-static (express's: ETag and Last-Modified with 304s,
 * byte ranges, no path outside `root`, each request looked up afresh so a rebuild shows at once):
 * `/` is index.html without caching, hashed assets are cached for a year. Answers false when the
 * request is not for it (not GET/HEAD, or no such file): the app keeps its state in the URL hash,
 * so no other path needs index.html. Precompressed `.br`/`.gz` siblings are not served: the
 * build writes none, and serve-static (unlike sirv, which fails the process when a listed file
 * vanishes during a rebuild) has no option for them.
 */
export function createStaticFiles(root: string = DEFAULT_WEB_DIST) {
  const index = path.join(root, 'index.html');
  const serve = serveStatic(root, {
    index: 'index.html',
    redirect: false,
    setHeaders(res, file) {
      const relative = path.relative(root, file).split(path.sep).join('/');
      res.setHeader('cache-control', isHashedAsset(relative) ? 'public, max-age=31536000, immutable' : 'no-cache');
      res.setHeader('x-content-type-options', 'nosniff');
    },
  });

  return async function serveDashboard(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const requested = (req.url ?? '/').split('?')[0]!;
    if (requested.startsWith(PLAYGROUND_PREFIX)) {
      const asset = await playgroundAsset(requested);
      if (!asset) return false;
      servePlaygroundAsset(req, res, asset);
      return true;
    }
    const built = await stat(index).then(
      (info) => info.isFile(),
      () => false,
    );
    if (!built) {
      if (requested !== '/' && requested !== '/index.html') return false;
      res
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end(
          'The dashboard is not built (web/dist/index.html is missing). Run `npm run build -w web`, ' +
            'or `npm start`, which builds it. GraphQL (and GraphiQL) is at /graphql.\n',
        );
      return true;
    }
    // serve-static either answers (and never calls next) or passes the request on: a missing
    // file or a refused path (`..`, bad encoding) with no error; a refusal about a file it found
    // (416 range, 412 precondition) or a failure to read with one.
    return new Promise<boolean>((resolve, reject) => {
      res.once('finish', () => resolve(true));
      res.once('close', () => resolve(true));
      serve(req, res, (error) => {
        if (!error) return resolve(false);
        const { status, headers } = error as { status?: number; headers?: Record<string, string> };
        if (status === undefined || status >= 500 || res.headersSent) return reject(error);
        res.writeHead(status, { ...headers, 'content-type': 'text/plain; charset=utf-8' }).end(`${error.message}\n`);
      });
    });
  };
}

/** GraphiQL's files (from memory, named by their hash): cached for good, gzipped when the client takes it. */
function servePlaygroundAsset(req: IncomingMessage, res: ServerResponse, asset: PlaygroundAsset): void {
  const headers: Record<string, string> = {
    'content-type': asset.contentType,
    'cache-control': 'public, max-age=31536000, immutable',
    'x-content-type-options': 'nosniff',
    etag: asset.etag,
    vary: 'accept-encoding',
  };
  if (req.headers['if-none-match'] === asset.etag) {
    res.writeHead(304, headers).end();
    return;
  }
  const gzipped = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = gzipped ? asset.gzipped : asset.body;
  if (gzipped) headers['content-encoding'] = 'gzip';
  headers['content-length'] = String(body.length);
  res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : body);
}
