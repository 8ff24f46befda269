// The servers bench/predict.ts measures, each in a child process of its own (the benchmark script
// forked with BENCH_ROLE), and the parent's handle on them over IPC: ready, stop, CPU profile,
// event-loop delay.
//   bare    node:http answering fixed bytes (a real Relearn predict answer): the baseline
//   yoga    a minimal graphql-yoga (createYoga + createSchema) with the same predict signature
//   relearn buildApp() on the database in $BENCH_DATABASE_URL
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { forkChild } from './children.js';
import { startLoopDelayProbe, type LoopDelay } from './loop-delay.js';

export type Role = 'bare' | 'yoga' | 'relearn';
type ToChild = { id: number; cmd: 'stop' | 'profile-start' | 'profile-stop' | 'loop-reset' | 'loop-read'; file?: string };
type FromChild = { type: 'ready'; port: number } | { type: 'done'; id: number; error?: string; data?: unknown };

/** Runs this process as the server `role` until the parent says stop. */
export async function serveAsChild(role: Role): Promise<void> {
  process.on('disconnect', () => process.exit(1)); // the parent died: do not linger
  let stop: () => Promise<void>;
  let port: number;
  if (role === 'bare') {
    const body = Buffer.from(process.env.BENCH_BODY!, 'base64');
    const contentType = process.env.BENCH_CONTENT_TYPE!;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.on('data', () => {});
      req.on('end', () => res.writeHead(200, { 'content-type': contentType, 'content-length': body.length }).end(body));
    });
    server.keepAliveTimeout = 65_000;
    port = await listen(server);
    stop = () => new Promise((r) => server.close(() => r()));
  } else if (role === 'yoga') {
    const { createSchema, createYoga } = await import('graphql-yoga');
    const answer = JSON.parse(process.env.BENCH_ANSWER!) as unknown;
    const yoga = createYoga({
      schema: createSchema({
        typeDefs: /* GraphQL */ `
          input FraudInput { amount: Float! hour: Int! dayOfWeek: Int! merchantCategory: String! previousAmount: Float! timeSinceLast: Float! }
          input SpamInput { text: String! }
          input PredictInput @oneOf { fraud: FraudInput spam: SpamInput }
          type ClassScore { label: String! probability: Float! }
          type ModelVersion { version: Int! }
          type Prediction { id: ID! model: String! label: String! probability: Float! scores: [ClassScore!]! modelVersion: ModelVersion! createdAt: String! }
          type Query { ok: Boolean }
          type Mutation { predict(input: PredictInput!): Prediction! }`,
        resolvers: { Mutation: { predict: () => answer } },
      }),
      graphqlEndpoint: '/graphql',
      landingPage: false,
      graphiql: false,
      logging: false,
    });
    // Yoga answers its own errors: its promise is only the end of the request.
    const server = createServer((req, res) => void yoga(req, res));
    server.keepAliveTimeout = 65_000;
    port = await listen(server);
    stop = () => new Promise((r) => server.close(() => r()));
  } else {
    const { buildApp } = await import('../../server/src/app.js');
    const { loadConfig } = await import('../../server/src/config.js');
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: process.env.BENCH_DATA_DIR!,
      DATABASE_URL: process.env.BENCH_DATABASE_URL!,
      AUTH_MODE: 'open',
      RATE_LIMITS: 'off',
      ADMIN_TOKEN: 'bench-admin-token-0123456789',
      LOG_LEVEL: 'warn',
      LOG_PRETTY: 'false',
      // The settings bench/predict.ts compares side by side (its Relearn variants).
      ...Object.fromEntries(['GRAPHQL_FAST_PATH', 'PREDICTION_COMMIT'].flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : []))),
    });
    const app = await buildApp(config);
    port = await app.start();
    await app.modelsReady;
    stop = () => app.stop();
  }

  const { Session } = await import('node:inspector/promises');
  const probe = startLoopDelayProbe();
  let session: InstanceType<typeof Session> | null = null;
  process.on('message', (msg: ToChild) => {
    void (async () => {
      try {
        if (msg.cmd === 'stop') {
          await stop();
          process.send!({ type: 'done', id: msg.id } satisfies FromChild, undefined, {}, () => process.exit(0));
          return;
        }
        if (msg.cmd === 'profile-start') {
          session = new Session();
          session.connect();
          await session.post('Profiler.enable');
          await session.post('Profiler.setSamplingInterval', { interval: 250 });
          await session.post('Profiler.start');
        } else if (msg.cmd === 'profile-stop' && session) {
          const { profile } = await session.post('Profiler.stop');
          session.disconnect();
          session = null;
          await writeFile(msg.file!, JSON.stringify(profile));
        }
        let data: LoopDelay | undefined;
        if (msg.cmd === 'loop-reset') probe.reset();
        if (msg.cmd === 'loop-read') data = probe.read();
        process.send!({ type: 'done', id: msg.id, ...(data ? { data } : {}) } satisfies FromChild);
      } catch (error) {
        process.send!({ type: 'done', id: msg.id, error: String((error as Error)?.stack ?? error) } satisfies FromChild);
      }
    })();
  });
  process.send!({ type: 'ready', port } satisfies FromChild);
}

function listen(server: ReturnType<typeof createServer>): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    });
  });
}

export interface Server {
  role: Role;
  url: string;
  port: number;
  proc: ChildProcess;
  command(cmd: ToChild['cmd'], file?: string): Promise<unknown>;
}

let nextCommandId = 1;
/** Forks `script` as the server `role` and resolves once it listens. */
export async function startServerChild(script: string, role: Role, env: Record<string, string>): Promise<Server> {
  const child = forkChild<FromChild>(script, role, env);
  const { port } = await child.next('ready');
  return {
    role,
    port,
    url: `http://127.0.0.1:${port}`,
    proc: child.proc,
    async command(cmd, file) {
      const id = nextCommandId++;
      const done = child.next('done', (msg) => msg.id === id);
      child.send({ id, cmd, ...(file ? { file } : {}) } satisfies ToChild);
      const answer = await done;
      if (answer.error) throw new Error(answer.error);
      return answer.data;
    },
  };
}
