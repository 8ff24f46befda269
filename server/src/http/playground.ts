// The GraphQL playground (GraphiQL) served from Relearn's own assets, so it works with no internet.
// Yoga's default page loads GraphiQL from unpkg; @graphql-yoga/render-graphiql is the same
// GraphiQL, published by Yoga's maintainers with every Yoga release, as strings in one module.
// Its own renderGraphiQL inlines all of it (~9 MB) into every page: here the pieces are served
// once each as content-hashed, cached files instead, and the page is a few hundred bytes.
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { GraphiQLOptions } from 'graphql-yoga';

export const PLAYGROUND_PREFIX = '/graphiql/';

/** The dashboard keeps the admin token under this sessionStorage key (web/src/lib/state/admin-token.svelte.ts). */
const TOKEN_KEY = 'relearn.adminToken';

export interface PlaygroundAsset {
  contentType: string;
  body: Buffer;
  gzipped: Buffer;
  etag: string;
}

interface PlaygroundAssets {
  byPath: Map<string, PlaygroundAsset>;
  css: string;
  js: string;
  start: string;
  workers: { editorWorkerService: string; json: string; graphql: string };
}

/**
 * Runs in the page before GraphiQL: the options come from a JSON script element; the admin token
 * the dashboard keeps for this tab goes into the header editor (HTTP) and into the websocket's
 * connectionParams (subscriptions), so an admin mutation or subscription runs as typed.
 */
const START_SCRIPT = `(() => {
  const options = JSON.parse(document.getElementById('graphiql-options').textContent);
  let token = null;
  try { token = sessionStorage.getItem(${JSON.stringify(TOKEN_KEY)}); } catch {}
  if (token) {
    options.headers = JSON.stringify({ Authorization: 'Bearer ' + token }, null, 2);
    options.connectionParams = { authorization: 'Bearer ' + token };
  }
  document.getElementById('root').textContent = '';
  YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), options);
})();
`;

let loading: Promise<PlaygroundAssets> | null = null;

/** Loaded on the first request for the playground: a process that never shows it never parses 9 MB. */
function assets(): Promise<PlaygroundAssets> {
  loading ??= (async () => {
    const bundle = await import('@graphql-yoga/render-graphiql/graphiql');
    const byPath = new Map<string, PlaygroundAsset>();
    const add = async (name: string, ext: 'js' | 'css', text: string): Promise<string> => {
      const body = Buffer.from(text, 'utf8');
      const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
      const urlPath = `${PLAYGROUND_PREFIX}${name}-${hash}.${ext}`;
      const contentType = ext === 'js' ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8';
      byPath.set(urlPath, { contentType, body, gzipped: await promisify(gzip)(body), etag: `"${hash}"` });
      return urlPath;
    };
    const [css, js, start, editorWorkerService, json, graphql] = await Promise.all([
      add('graphiql', 'css', bundle.css),
      add('yoga-graphiql', 'js', bundle.js),
      add('start', 'js', START_SCRIPT),
      add('editor.worker', 'js', bundle.editorWorkerService),
      add('json.worker', 'js', bundle.jsonWorker),
      add('graphql.worker', 'js', bundle.graphqlWorker),
    ]);
    return { byPath, css, js, start, workers: { editorWorkerService, json, graphql } };
  })();
  return loading;
}

/** A playground file by its URL path (null: not one of them). */
export async function playgroundAsset(urlPath: string): Promise<PlaygroundAsset | null> {
  if (!urlPath.startsWith(PLAYGROUND_PREFIX)) return null;
  return (await assets()).byPath.get(urlPath) ?? null;
}

/** JSON inside a <script> element: nothing in it can close the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Yoga's `renderGraphiQL`: the page, pointing at the files above. */
export async function renderPlayground(options: GraphiQLOptions): Promise<string> {
  const a = await assets();
  const title = options.title ?? 'GraphiQL';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${a.css}">
</head>
<body id="body" class="no-focus-outline">
<noscript>The GraphQL playground needs JavaScript.</noscript>
<div id="root">Loading ${escapeHtml(title)}…</div>
<script type="application/json" id="graphiql-options">${scriptJson(options)}</script>
<script>
self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: (_moduleId, label) => (${scriptJson(a.workers)})[label] };
</script>
<script src="${a.js}"></script>
<script src="${a.start}"></script>
</body>
</html>
`;
}

/** What a new tab of the playground shows first. */
export const PLAYGROUND_QUERY = `# Relearn's GraphQL API. Run an operation with the ▶ button (or Ctrl+Enter).
# Admin operations (triggerRetrain, activateModelVersion, …) need the admin token printed by
# npm start: enter it in the dashboard (same tab) or add it under Headers below as
#   { "Authorization": "Bearer <ADMIN_TOKEN>" }

query Models {
  models { name labels liveVersion { version trainingMetrics { accuracy } } }
  metrics(model: "fraud") { accuracy feedbackCount predictionCount }
}

subscription LiveMetrics {
  metricsUpdated(model: "fraud") { accuracy feedbackCount }
}
`;
