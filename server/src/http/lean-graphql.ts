import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError, type ExecutionResult } from 'graphql';
import { createYoga, processRegularResult, type GraphQLParams } from 'graphql-yoga';
import type { Logger } from '../logger.js';
import type { RelearnServerContext, RelearnYoga } from './graphql-server.js';

/**
 * The lean path for the common request: a POST of `application/json` to /graphql, run from the
 * plain `node:http` handler without yoga's WHATWG Request/Response pipeline (a Request with its
 * Headers, URL and body stream per request, then a Response copied back onto the node response:
 * about a third of the CPU of a predict in the profile, README *Benchmarks*).
 *
 * What runs is still yoga's own code, so nothing differs but the transport: `getResultForParams`
 * (its onParams hooks, then `getEnveloped` — parse and validation caches, query limits, error
 * masking, input error codes, introspection control, the one context factory with the
 * principal — then execute and the onExecutionResult hooks), then every onResultProcess hook
 * (media type negotiation, the 200 ms refusal delay of query-limits.ts) and yoga's regular result
 * processor (the HTTP status and headers from `extensions.http`, e.g. 429/503 with Retry-After,
 * and the body without internals).
 *
 * The lean path replaces only yoga's request-level hooks, and only for requests where they do
 * nothing: JSON body parsing (anything but a plain, well-formed params object goes to yoga, so its
 * 400s are its own), CORS (a request with an Origin goes to yoga), the body limit (read within
 * MAX_BODY_BYTES by the HTTP server before either path), method and route checks (POST /graphql
 * only), GraphiQL and SSE/multipart (only Accept values whose answer is the regular JSON one).
 * A plugin added later with its own onRequest, onRequestParse or onResponse hook would be skipped
 * here, so `createLeanGraphQL` counts them against a plain yoga's and turns the lean path off
 * (with a warning) when there are more.
 */
export interface LeanGraphQL {
  /** Serves the request and resolves true, or resolves false without touching `res` (hand it to yoga). */
  serve(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<boolean>;
  /** Requests served by each path since start (tests check the lean path really serves). */
  readonly served: { lean: number; yoga: number };
}

/** Yoga's members the lean path needs that its typings keep private (present at run time). */
interface YogaInternals {
  onResultProcessHooks: ((payload: ResultProcessPayload) => unknown)[];
  /** Every plugin, yoga's own and Relearn's (getEnveloped._plugins, which the adapter's proxy hides). */
  plugins: Record<string, unknown>[];
  maskedErrorsOpts: { maskError(error: unknown, message: string): Error; errorMessage: string } | null;
}
type ResultProcessPayload = {
  request: RequestShim;
  result: unknown;
  acceptableMediaTypes: string[];
  setResult: (result: unknown) => void;
  resultProcessor: unknown;
  setResultProcessor: (processor: ResultProcessor, mediaType: string) => void;
  serverContext: unknown;
};
type ResultProcessor = (result: unknown, fetchAPI: unknown, mediaType: string) => unknown;

/** What yoga's hooks read of the request on this path (`headers.get`, `method`, `url`). */
interface RequestShim {
  method: 'POST';
  url: string;
  headers: { get(name: string): string | null };
}

/*
 * The per-request objects below are classes, not object literals of arrow functions: run through
 * tsx (esbuild keepNames), each named closure made per request also costs a `__name`
 * defineProperty call, and the lean path made several per request (two per onResultProcess hook).
 */
class NodeHeaders {
  constructor(private readonly req: IncomingMessage) {}
  get(name: string): string | null {
    const v = this.req.headers[name.toLowerCase()];
    if (v === undefined) return null;
    return Array.isArray(v) ? v.join(', ') : v;
  }
}

class NodeRequestShim implements RequestShim {
  readonly method = 'POST' as const;
  readonly url: string;
  readonly headers: NodeHeaders;
  constructor(req: IncomingMessage) {
    this.url = req.url ?? '/graphql';
    this.headers = new NodeHeaders(req);
  }
}

/**
 * yoga's processResult payload, one per request, handed to its onResultProcess hooks in turn
 * (hooks destructure it: the setters are own properties that need no `this`; assigned in the
 * constructor, esbuild does not wrap them in `__name`).
 */
class ResultProcessing implements ResultProcessPayload {
  resultProcessor: ResultProcessor | undefined = undefined;
  mediaType = '*/*';
  readonly acceptableMediaTypes: string[] = [];
  readonly setResult: (result: unknown) => void;
  readonly setResultProcessor: (processor: ResultProcessor, mediaType: string) => void;
  constructor(
    public result: unknown,
    readonly request: RequestShim,
    readonly serverContext: unknown,
  ) {
    this.setResult = (r) => {
      this.result = r;
    };
    this.setResultProcessor = (processor, mediaType) => {
      this.resultProcessor = processor;
      this.mediaType = mediaType;
    };
  }
}

/** The answer yoga's regular result processor builds, captured instead of becoming a fetch Response. */
class CapturedResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(
    readonly body: string | null,
    init: { status?: number; headers?: Record<string, string> } = {},
  ) {
    this.status = init.status ?? 200;
    this.headers = init.headers ?? {};
  }
}
const captureFetchAPI = { Response: CapturedResponse };

const REQUEST_HOOKS = ['onRequest', 'onRequestParse', 'onResponse'] as const;
const PARAM_KEYS = new Set(['query', 'variables', 'operationName', 'extensions']);
const REGULAR_MEDIA_TYPES = ['application/graphql-response+json', 'application/json'];

function countRequestHooks(plugins: Record<string, unknown>[]): Record<string, number> {
  return Object.fromEntries(REQUEST_HOOKS.map((h) => [h, plugins.filter((p) => p && typeof p[h] === 'function').length]));
}

/**
 * Yoga's media type negotiation (graphql-yoga/src/plugins/result-processor/accept.ts and
 * use-result-processor.ts) decided ahead, since the lean path must know before executing whether
 * the answer is the regular JSON one: the last regular media type matched wins; null when none
 * matches (yoga would answer with SSE, multipart or 406: its business).
 */
export function regularMediaTypeFor(accept: string | undefined): string | null {
  const asked = (accept || '*/*').replace(/\s/g, '').toLowerCase().split(',');
  const mediaTypes: string[] = [];
  for (const a of asked) {
    const [mediaType, ...params] = a.split(';');
    if (mediaType === undefined) continue;
    const charset = params.find((p) => p.includes('charset=')) || 'charset=utf-8';
    if (charset === 'charset=utf-8') mediaTypes.push(mediaType);
  }
  mediaTypes.reverse();
  let chosen: string | null = null;
  for (const requested of mediaTypes) {
    for (const offered of REGULAR_MEDIA_TYPES) if (matches(offered, requested)) chosen = offered;
  }
  return chosen;
}
function matches(offered: string, requested: string): boolean {
  const [askedPre, askedSuf] = offered.split('/');
  const [pre, suf] = requested.split('/');
  return (pre === '*' || pre === askedPre) && (suf === '*' || suf === askedSuf);
}

/** Params exactly as yoga would accept them without a word (checkGraphQLQueryParams), else null. */
function plainParams(body: Buffer): GraphQLParams | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const p = parsed as Record<string, unknown>;
  for (const key in p) if (p[key] != null && !PARAM_KEYS.has(key)) return null;
  if (typeof p.query !== 'string') return null;
  if (!objectOrAbsent(p.variables) || !objectOrAbsent(p.extensions)) return null;
  if (p.operationName != null && typeof p.operationName !== 'string') return null;
  return p as GraphQLParams;
}

function objectOrAbsent(v: unknown): boolean {
  return v == null || (typeof v === 'object' && !Array.isArray(v));
}

/** The content types yoga's JSON parser takes as JSON (isContentTypeMatch: no lower-casing). */
function isJson(contentType: string | undefined): boolean {
  const first = contentType?.split(',')[0];
  return first === 'application/json' || Boolean(first?.startsWith('application/json;'));
}

/** Answers with the bytes of a WHATWG Response (the unexpected case of a plugin's own result processor). */
async function sendFetchResponse(res: ServerResponse, response: Response): Promise<void> {
  const text = await response.text();
  res.writeHead(response.status, Object.fromEntries(response.headers.entries())).end(text);
}

export function createLeanGraphQL(options: { yoga: RelearnYoga; logger: Logger }): LeanGraphQL | null {
  const { yoga, logger } = options;
  const internals = yoga as unknown as YogaInternals;
  const served = { lean: 0, yoga: 0 };

  // Yoga's internals this path relies on (a yoga upgrade that moves them turns the path off).
  if (!Array.isArray(internals.onResultProcessHooks) || !Array.isArray(internals.plugins) || typeof yoga.getResultForParams !== 'function') {
    logger.warn('GRAPHQL_FAST_PATH: this graphql-yoga lacks what the lean path uses; every request goes through yoga');
    return null;
  }
  // Request-level hooks a plain yoga has (health check, CORS, GraphiQL, request parsers, body
  // limit, batching and method checks, the unhandled route), against this one's.
  const plain = createYoga({ schema: yoga.getEnveloped().schema, logging: false, landingPage: false }) as unknown as YogaInternals;
  const expected = countRequestHooks(plain.plugins);
  const actual = countRequestHooks(internals.plugins);
  const extra = REQUEST_HOOKS.filter((h) => actual[h]! > expected[h]!);
  if (extra.length > 0) {
    logger.warn({ hooks: extra }, 'GRAPHQL_FAST_PATH: a yoga plugin has request hooks the lean path does not run; every request goes through yoga');
    return null;
  }

  // Accept values repeat (one per client library): decided once each, in a bounded map.
  const mediaTypes = new Map<string, string | null>();
  const mediaTypeFor = (accept: string | undefined): string | null => {
    const key = accept ?? '';
    let m = mediaTypes.get(key);
    if (m === undefined) {
      m = regularMediaTypeFor(accept);
      if (mediaTypes.size >= 256) mediaTypes.clear();
      mediaTypes.set(key, m);
    }
    return m;
  };

  const serve = async (req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<boolean> => {
    const { headers } = req;
    if (req.method !== 'POST' || headers.origin !== undefined || !isJson(headers['content-type'])) return fallback();
    const accept = headers.accept;
    if (mediaTypeFor(accept) === null) return fallback();
    const params = plainParams(body);
    if (!params) return fallback();

    const request = new NodeRequestShim(req);
    // As yoga's node adapter gives it; the context factory reads the credentials from the request.
    const serverContext: RelearnServerContext & { req: IncomingMessage; res: ServerResponse } = { req, res };
    served.lean++;
    let result: unknown;
    try {
      result = await yoga.getResultForParams({ params, request: request as unknown as Request }, serverContext as never);
    } catch (error) {
      // Where yoga's handle() catches: the error masked (or kept when it is a GraphQL error) as the result.
      result = { errors: [maskedError(error)] };
    }

    // yoga's processResult: every onResultProcess hook in order, then the processor they chose.
    const processing = new ResultProcessing(result, request, serverContext);
    for (const hook of internals.onResultProcessHooks) await hook(processing);
    const { resultProcessor: processor, mediaType, acceptableMediaTypes } = processing;
    result = processing.result;
    if (processor === (processRegularResult as unknown as ResultProcessor)) {
      const answer = processRegularResult(result as ExecutionResult, captureFetchAPI as never, mediaType) as unknown as CapturedResponse;
      const bytes = answer.body ?? '';
      answer.headers['content-length'] = String(Buffer.byteLength(bytes));
      res.writeHead(answer.status, answer.headers).end(bytes);
    } else if (processor) {
      await sendFetchResponse(res, (await processor(result, yoga.fetchAPI, mediaType)) as Response);
    } else {
      res.writeHead(406, { accept: acceptableMediaTypes.join('; charset=utf-8, ') }).end();
    }
    return true;
  };

  const maskedError = (error: unknown): GraphQLError => {
    const masking = internals.maskedErrorsOpts;
    const e = masking ? masking.maskError(error, masking.errorMessage) : error;
    if (e instanceof GraphQLError) return e;
    return new GraphQLError(e instanceof Error ? e.message : String(e), e instanceof Error ? { originalError: e } : {});
  };

  const fallback = () => {
    served.yoga++;
    return Promise.resolve(false);
  };

  return { serve, served };
}
