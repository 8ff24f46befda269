import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built dashboard (npm run build -w web), relative to this file in the repository. */
export const DEFAULT_WEB_DIST = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentType(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** Vite names built assets `name-<hash>.ext` under assets/: they never change, so cache them for good. */
function isHashedAsset(relative: string): boolean {
  return relative.startsWith('assets/') && /-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/.test(relative);
}

/**
 * The file under `root` a URL path names, or null when it would leave `root` (`..`, encoded
 * slashes or backslashes, NUL bytes) or cannot be decoded.
 */
export function resolveStaticPath(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const relative = path.posix.normalize(decoded).replace(/^\/+/, '');
  if (relative === '..' || relative.startsWith('../') || decoded.split('/').includes('..')) return null;
  const file = path.resolve(root, relative);
  const base = path.resolve(root);
  return file === base || file.startsWith(base + path.sep) ? file : null;
}

/**
 * Serves the built dashboard: `/` gets index.html (no caching, so a new build shows at once), other files their content type, hashed assets an
 * immutable year. Answers false when the request is not for it (not GET/HEAD, or no such file).
 */
export function createStaticFiles(root: string = DEFAULT_WEB_DIST) {
  const send = async (req: IncomingMessage, res: ServerResponse, file: string, relative: string) => {
    const info = await stat(file);
    res.writeHead(200, {
      'content-type': contentType(file),
      'content-length': info.size,
      'cache-control': isHashedAsset(relative) ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    if (req.method === 'HEAD') return void res.end();
    await new Promise<void>((resolve, reject) => {
      createReadStream(file).on('error', reject).on('end', resolve).pipe(res);
    });
  };

  const isFile = async (file: string) => {
    try {
      return (await stat(file)).isFile();
    } catch {
      return false;
    }
  };

  return async function serveStatic(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const urlPath = (req.url ?? '/').split('?')[0]!;
    const index = path.join(root, 'index.html');
    if (!(await isFile(index))) {
      if (urlPath !== '/' && urlPath !== '/index.html') return false;
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(
        'The dashboard is not built (web/dist/index.html is missing). Run `npm run build -w web`, ' +
          'or `npm start`, which builds it. GraphQL (and GraphiQL) is at /graphql.\n',
      );
      return true;
    }
    const file = resolveStaticPath(root, urlPath);
    if (!file) {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('bad path\n');
      return true;
    }
    const relative = path.relative(root, file).split(path.sep).join('/');
    if (relative !== '' && (await isFile(file))) {
      await send(req, res, file, relative);
      return true;
    }
    // The app keeps its state in the URL hash: only `/` needs index.html; anything else missing
    // stays the API's JSON 404.
    if (urlPath === '/') {
      await send(req, res, index, 'index.html');
      return true;
    }
    return false;
  };
}
