import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Logger } from '../logger.js';
import type { ServingMetrics } from '../metrics/prometheus.js';
import { HANDLE_ALERT } from '../alerts/alert.graphql.js';
import { verifyGrafanaSignature } from '../alerts/webhook-auth.js';
import { parseWebhookBody } from '../alerts/webhook-bodies.js';
import { SIGNATURE_CHECK_HEADER, type RelearnYoga } from './graphql-server.js';
import { createStaticFiles } from './static-files.js';

async function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw Object.assign(new Error('request body too large'), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function forwardHeaders(req: IncomingMessage): Record<string, string> {
  return Object.fromEntries(Object.entries(req.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v]] : [])));
}

async function relay(res: ServerResponse, answer: Response): Promise<void> {
  res.writeHead(answer.status, Object.fromEntries(answer.headers.entries()));
  res.end(Buffer.from(await answer.arrayBuffer()));
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, boolean | string>;
}

export interface HttpServer {
  server: Server;
  listen(port: number, host: string): Promise<number>;
  /** Stops accepting, lets in-flight requests finish, closes websockets. */
  close(timeoutMs: number): Promise<void>;
}

export function createHttpServer(options: {
  /** Null in a trainer-only process: operations endpoints only. */
  yoga: RelearnYoga | null;
  serving: ServingMetrics;
  readiness: () => Promise<Readiness>;
  maxBodyBytes: number;
  webhookHmacSecret: string | null;
  logger: Logger;
  /** The built dashboard's directory (default: web/dist of this repository). */
  webDist?: string;
}): HttpServer {
  const { yoga, serving, readiness, maxBodyBytes, webhookHmacSecret, logger } = options;
  const serveStatic = createStaticFiles(options.webDist);

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  let closing = false;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    // While shutting down, each answer closes its connection so keep-alive clients let go.
    if (closing) res.setHeader('connection', 'close');
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return json(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      const r = await readiness();
      return json(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not ready', checks: r.checks });
    }
    if (path === '/metrics') {
      const text = await serving.text();
      res.writeHead(200, { 'content-type': serving.contentType() }).end(text);
      return;
    }
    delete req.headers[SIGNATURE_CHECK_HEADER];
    if ((path === '/graphql' || path === '/webhooks/alerts') && yoga) {
      const length = Number(req.headers['content-length'] ?? 0);
      if (length > maxBodyBytes) return json(res, 413, { errors: [{ message: `request body over ${maxBodyBytes} bytes`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
      if (path === '/webhooks/alerts') return alertWebhook(req, res, yoga);
      // A signed GraphQL request (Grafana's payload template): check the signature over the raw body.
      if (req.method === 'POST' && req.headers['x-grafana-alerting-signature'] && webhookHmacSecret) {
        const body = await readBody(req, maxBodyBytes);
        return relay(res, await yoga.fetch('http://relearn/graphql', {
          method: 'POST',
          headers: { ...forwardHeaders(req), [SIGNATURE_CHECK_HEADER]: signatureCheck(req, body) },
          body,
        }));
      }
      return yoga(req, res);
    }
    // The dashboard (web/dist): `/`, its assets, and index.html for client-side paths.
    if (await serveStatic(req, res)) return;
    json(res, 404, { error: 'not found' });
  };

  const signatureCheck = (req: IncomingMessage, body: string): 'valid' | 'invalid' | 'absent' => {
    if (!webhookHmacSecret || !req.headers['x-grafana-alerting-signature']) return 'absent';
    const header = (name: string) => {
      const v = req.headers[name];
      return typeof v === 'string' ? v : null;
    };
    const result = verifyGrafanaSignature({
      secret: webhookHmacSecret,
      body,
      signature: header('x-grafana-alerting-signature'),
      timestamp: header('x-grafana-alerting-signature-timestamp'),
    });
    if (!result.ok) logger.warn({ reason: result.reason }, 'alert webhook signature refused');
    return result.ok ? 'valid' : 'invalid';
  };

  /**
   * The standard Grafana and Alertmanager webhook bodies, for monitoring that cannot send a
   * GraphQL request: validated here, then run as the same `handleAlert` mutation, with the
   * caller's credentials.
   */
  const alertWebhook = async (req: IncomingMessage, res: ServerResponse, yoga: RelearnYoga) => {
    if (req.method !== 'POST') return json(res, 405, { error: 'POST an Alertmanager or Grafana webhook body' });
    const body = await readBody(req, maxBodyBytes);
    let parsedJson: unknown;
    try {
      parsedJson = JSON.parse(body);
    } catch {
      return json(res, 400, { error: 'the body is not JSON' });
    }
    const parsed = parseWebhookBody(parsedJson);
    if (!parsed.ok) return json(res, 400, { error: 'not an Alertmanager or Grafana webhook body', problems: parsed.problems });
    const answer = await yoga.fetch('http://relearn/graphql', {
      method: 'POST',
      headers: { ...forwardHeaders(req), 'content-type': 'application/json', [SIGNATURE_CHECK_HEADER]: signatureCheck(req, body) },
      body: JSON.stringify({ query: HANDLE_ALERT, variables: { input: parsed.notification } }),
    });
    const result = (await answer.json()) as { data?: { handleAlert?: unknown }; errors?: { message: string; extensions?: { code?: string } }[] };
    const code = result.errors?.[0]?.extensions?.code;
    if (code === 'UNAUTHENTICATED') return json(res, 401, { error: result.errors![0]!.message });
    if (code === 'BAD_USER_INPUT') return json(res, 400, { error: result.errors![0]!.message });
    if (result.errors?.length) return json(res, 500, { error: 'the alert could not be handled; retry' });
    return json(res, 200, result.data!.handleAlert);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if ((error as { status?: number }).status === 413) {
        if (!res.headersSent) json(res, 413, { error: `request body over ${maxBodyBytes} bytes` });
        return;
      }
      logger.error({ err: error, url: req.url }, 'request failed');
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;

  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: maxBodyBytes });
  // graphql-ws through yoga's envelop, so the same plugins (limits, masking) and context apply.
  const ws = useServer(
    {
      // Yoga's enveloped execute/subscribe travel with the args prepared in onSubscribe.
      execute: (args: any) => args.execute(args),
      subscribe: (args: any) => args.subscribe(args),
      onSubscribe: async (ctx, _id, params) => {
        if (!yoga) return [new GraphQLError('this process serves no GraphQL API')];
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          request: new Request('http://localhost/graphql', {
            headers: Object.entries(ctx.extra.request.headers).flatMap(([k, v]) =>
              typeof v === 'string' ? [[k, v] as [string, string]] : [],
            ),
          }),
        });
        const args = {
          schema,
          operationName: params.operationName,
          document: parse(params.query),
          variableValues: params.variables,
          contextValue: await contextFactory(),
          execute,
          subscribe,
        };
        const errors = validate(args.schema, args.document);
        if (errors.length) return errors;
        return args;
      },
    },
    wss,
  );

  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  return {
    server,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address();
          resolve(typeof address === 'object' && address ? address.port : port);
        });
      }),
    close: async (timeoutMs) => {
      closing = true;
      await ws.dispose();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Connections that finish their last request become idle later: keep closing those.
      const idle = setInterval(() => server.closeIdleConnections(), 50);
      server.closeIdleConnections();
      const timer = setTimeout(() => {
        logger.warn({ open: sockets.size }, 'shutdown timeout: closing remaining connections');
        for (const s of sockets) s.destroy();
      }, timeoutMs);
      await closed;
      clearTimeout(timer);
      clearInterval(idle);
    },
  };
}
