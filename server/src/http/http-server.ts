import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Logger } from '../logger.js';
import type { ServingMetrics } from '../metrics/prometheus.js';
import type { AccessControl } from '../access/access-control.js';
import { webhookRefusal } from '../access/webhook-access.js';
import type { AlertService } from '../alerts/alert-service.js';
import { GrafanaWebhookVerifier, type SignatureCheck } from '../alerts/webhook-auth.js';
import { parseWebhookBody } from '../alerts/webhook-bodies.js';
import { clientErrorOf } from '../graphql/errors.js';
import { AppError, isAppError, plainHttpStatusOf } from '../shared/app-error.js';
import type { RelearnYoga } from './graphql-server.js';
import { createLeanGraphQL, type LeanGraphQL } from './lean-graphql.js';
import { createStaticFiles } from './static-files.js';

/** The whole body, refused (PAYLOAD_TOO_LARGE, 413) as soon as it passes `maxBytes`, whether or not it said its length. */
async function readBodyBytes(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw tooLargeError(maxBytes);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function tooLargeError(maxBytes: number): AppError {
  return new AppError('PAYLOAD_TOO_LARGE', `request body over ${maxBytes} bytes`);
}

async function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return (await readBodyBytes(req, maxBytes)).toString('utf8');
}

function forwardHeaders(req: IncomingMessage): Record<string, string> {
  return Object.fromEntries(Object.entries(req.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v]] : [])));
}

/** A websocket's credentials, as a `Bearer …` header value (null: none). */
function socketAuthorization(upgrade: IncomingMessage, connectionParams: Readonly<Record<string, unknown>> | undefined): string | null {
  const header = upgrade.headers.authorization;
  if (typeof header === 'string' && header) return header;
  const given = connectionParams?.authorization ?? connectionParams?.Authorization ?? connectionParams?.token;
  if (typeof given !== 'string' || !given) return null;
  return /^Bearer\s/i.test(given) ? given : `Bearer ${given}`;
}

/** The alert webhook route's collaborators: credentials and the alert service itself. */
export interface WebhookApi {
  access: Pick<AccessControl, 'authenticate'>;
  alerts: Pick<AlertService, 'receive'>;
  webhookTokenSet: boolean;
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
  /** The lean GraphQL path (lean-graphql.ts); null when GRAPHQL_FAST_PATH=off or it turned itself off. */
  lean: LeanGraphQL | null;
}

export function createHttpServer(options: {
  /** Null in a trainer-only process: operations endpoints only. */
  yoga: RelearnYoga | null;
  /** What POST /webhooks/alerts needs (with `yoga`). */
  webhook?: WebhookApi;
  serving: ServingMetrics;
  readiness: () => Promise<Readiness>;
  maxBodyBytes: number;
  webhookHmacSecret: string | null;
  /** Refuse Grafana signatures that do not cover a timestamp (they would never expire). */
  webhookHmacRequireTimestamp?: boolean;
  logger: Logger;
  /** The built dashboard's directory (default: web/dist of this repository). */
  webDist?: string;
  /** GRAPHQL_FAST_PATH: serve plain JSON POSTs to /graphql on the lean path (lean-graphql.ts). */
  fastPath?: boolean;
}): HttpServer {
  const { yoga, serving, readiness, maxBodyBytes, webhookHmacSecret, logger } = options;
  const serveStatic = createStaticFiles(options.webDist);
  const lean = yoga && (options.fastPath ?? true) ? createLeanGraphQL({ yoga, logger }) : null;
  const verifier = webhookHmacSecret ? new GrafanaWebhookVerifier(webhookHmacSecret, { requireTimestamp: options.webhookHmacRequireTimestamp ?? true }) : null;

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  /** 413 in GraphQL's error shape (the body never reached GraphQL). */
  const tooLarge = (res: ServerResponse) => {
    const error = tooLargeError(maxBodyBytes);
    json(res, plainHttpStatusOf(error.code), { errors: [{ message: error.message, extensions: { code: error.code } }] });
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
    if ((path === '/graphql' || path === '/webhooks/alerts') && yoga) {
      const length = Number(req.headers['content-length'] ?? 0);
      if (length > maxBodyBytes) return tooLarge(res);
      if (path === '/webhooks/alerts') return alertWebhook(req, res, options.webhook!);
      // A signed GraphQL request (Grafana's payload template): check the signature over the raw body.
      // The result reaches the context as server context, which no client can set.
      if (req.method === 'POST' && req.headers['x-grafana-alerting-signature'] && verifier) {
        const body = await readBody(req, maxBodyBytes);
        const signature = signatureCheck(req, body);
        const answer = await yoga.fetch('http://relearn/graphql', { method: 'POST', headers: forwardHeaders(req), body }, { signature });
        const text = await answer.text();
        // Not handled on this side (masked error): the sender's retry with this signature must pass.
        if (signature?.ok && (answer.status >= 500 || /"(INTERNAL_SERVER_ERROR|SERVICE_UNAVAILABLE)"/.test(text))) verifier.release(signature.signature);
        res.writeHead(answer.status, Object.fromEntries(answer.headers.entries())).end(text);
        return;
      }
      // Yoga would read the body itself, without bound when it is chunked (no Content-Length): it
      // is read here within the limit and handed over as an already-read body (@whatwg-node/server
      // takes `req.body`, as behind a body parser), so nothing runs until all of it is in.
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        const body = await readBodyBytes(req, maxBodyBytes);
        if (lean && (await lean.serve(req, res, body))) return;
        (req as IncomingMessage & { body?: Buffer }).body = body;
      }
      return yoga(req, res);
    }
    // The dashboard (web/dist, served by serve-static): `/` is index.html, then its assets.
    if (await serveStatic(req, res)) return;
    json(res, 404, { error: 'not found' });
  };

  /** Grafana's signature over the raw body; undefined when none was sent (or none is configured). */
  const signatureCheck = (req: IncomingMessage, body: string): SignatureCheck | undefined => {
    if (!verifier || !req.headers['x-grafana-alerting-signature']) return undefined;
    const header = (name: string) => {
      const v = req.headers[name];
      return typeof v === 'string' ? v : null;
    };
    const result = verifier.verify({
      body,
      signature: header('x-grafana-alerting-signature'),
      timestamp: header('x-grafana-alerting-signature-timestamp'),
    });
    if (!result.ok) logger.warn({ reason: result.reason }, 'alert webhook signature refused');
    return result;
  };

  /**
   * The standard Grafana and Alertmanager webhook bodies, for monitoring that cannot send a
   * GraphQL request: validated here and handed to the alert service, with the same credentials
   * rule as the handleAlert mutation (access/webhook-access.ts). Every refusal names its reason:
   * 400 for the body (each field), 401 for the credentials (which check failed); 500 only for a
   * failure on this side (retry).
   */
  const alertWebhook = async (req: IncomingMessage, res: ServerResponse, api: WebhookApi) => {
    if (req.method !== 'POST') return json(res, 405, { error: 'POST an Alertmanager or Grafana webhook body' });
    const body = await readBody(req, maxBodyBytes);
    let parsedJson: unknown;
    try {
      parsedJson = JSON.parse(body);
    } catch {
      return json(res, 400, { error: 'the body is not JSON', field: '(body)' });
    }
    const parsed = parseWebhookBody(parsedJson);
    if (!parsed.ok) {
      const first = parsed.problems[0]!;
      return json(res, 400, {
        error: `not an Alertmanager or Grafana webhook body: ${first.field}: ${first.reason}`,
        field: first.field,
        problems: parsed.problems.map((p) => `${p.field}: ${p.reason}`),
      });
    }
    const signature = signatureCheck(req, body);
    const authorization = typeof req.headers.authorization === 'string' ? req.headers.authorization : null;
    try {
      const caller = await api.access.authenticate(authorization);
      const refusal = webhookRefusal({
        caller,
        authorizationSent: Boolean(authorization),
        signature,
        webhookTokenSet: api.webhookTokenSet,
        hmacRequired: webhookHmacSecret !== null,
      });
      if (refusal) return json(res, 401, { error: refusal });
      const outcome = await api.alerts.receive(parsed.notification);
      return json(res, 200, {
        accepted: true,
        retrainJobId: outcome.retrainJobId,
        alerts: outcome.alerts.map((a) => ({ id: a.id, model: a.model, status: a.status, action: a.action, message: a.message })),
      });
    } catch (error) {
      // Not handled on this side: the sender's retry with this signature must pass.
      if (signature?.ok) verifier!.release(signature.signature);
      const known = error instanceof Error ? clientErrorOf(error) : null;
      if (!known) {
        logger.error({ err: error }, 'an alert webhook could not be handled');
        return json(res, 500, { error: 'the alert could not be handled; retry' });
      }
      const retryAfter = known.retryAfterSeconds;
      if (retryAfter !== null) res.setHeader('retry-after', String(retryAfter));
      return json(res, plainHttpStatusOf(known.code), { error: known.message, code: known.code, ...known.details });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (isAppError(error, 'PAYLOAD_TOO_LARGE')) {
        // The rest of the body is not read: close the connection once the answer is out.
        if (!res.headersSent) {
          res.setHeader('connection', 'close');
          tooLarge(res);
        }
        return;
      }
      logger.error({ err: error, url: req.url }, 'request failed');
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;

  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: maxBodyBytes });
  // graphql-ws through yoga's envelop, so the same plugins (limits, masking, codes) and context
  // apply; queries, mutations and subscriptions alike (yoga's examples/graphql-ws).
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
          // No fetch Request here: the socket's credentials are the upgrade request's
          // Authorization header, else connectionParams { authorization } or { token }.
          authorization: socketAuthorization(ctx.extra.request, ctx.connectionParams),
        });
        let document;
        try {
          document = parse(params.query);
        } catch (error) {
          // A refused or malformed document is an error message on the socket, not a closed socket.
          return [
            error instanceof GraphQLError ? error : new GraphQLError('the document could not be parsed', { extensions: { code: 'GRAPHQL_PARSE_FAILED' } }),
          ];
        }
        const args = {
          schema,
          operationName: params.operationName,
          document,
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
    lean,
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
