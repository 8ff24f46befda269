// Load generators: a closed loop (autocannon: N connections, each sending when answered) and a
// true open loop (request i due at t0 + i/rate whatever happened before).
import { Agent, request as httpRequest } from 'node:http';
import autocannon, { type Request as AcRequest } from 'autocannon';
import type { Tally } from './checks.js';
import { HEADERS } from './workload.js';

export type { AcRequest };

export interface ClosedLoopRun {
  seconds: number;
  p50: number;
  p99: number;
  /** autocannon's errors that were not timeouts, and its timeouts. */
  netErrors: number;
  timeouts: number;
}

/** autocannon against `url` for `seconds` or `amount` requests; answers are checked by the requests' onResponse. */
export async function closedLoop(
  url: string,
  opts: { seconds?: number; amount?: number; connections: number; overallRate?: number; requests: AcRequest[] },
): Promise<ClosedLoopRun> {
  const started = performance.now();
  const result = await autocannon({
    url,
    connections: opts.connections,
    ...(opts.seconds ? { duration: opts.seconds } : {}),
    ...(opts.amount ? { amount: opts.amount } : {}),
    ...(opts.overallRate ? { overallRate: opts.overallRate } : {}),
    timeout: 10,
    requests: opts.requests,
  });
  return {
    seconds: (performance.now() - started) / 1000,
    p50: result.latency.p50,
    p99: result.latency.p99,
    netErrors: result.errors - result.timeouts,
    timeouts: result.timeouts,
  };
}

export interface OpenLoopSample {
  /** When it was due, and ms from due time and from the actual send to the end of the answer. */
  due: number;
  fromDue: number;
  fromSend: number;
}

export interface OpenLoop {
  /** Sends nothing more; `done` resolves once the requests sent are answered. */
  stop(): void;
  done: Promise<{ samples: OpenLoopSample[]; t0: number; t1: number; sent: number }>;
}

/**
 * A true open loop on POST /graphql: request i is due at t0 + i/rate, and its latency is counted
 * from that due time (so queueing in the client or the server is not hidden). Node http client
 * with keep-alive; timer resolution adds up to ~1 ms to the "from due time" figures. Runs for
 * `seconds`, or until stop() (seconds: Infinity).
 */
export function openLoop(opts: {
  port: number;
  rate: number;
  seconds: number;
  bodies: string[];
  maxSockets: number;
  timeoutMs: number;
  onAnswer: (status: number, text: string) => void;
  onTimeout?: () => void;
  /** `destroyed`: the request was ended here (its timeout), not by the network. */
  onError: (error: Error, destroyed: boolean) => void;
}): OpenLoop {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.maxSockets });
  const interval = 1000 / opts.rate;
  const samples: OpenLoopSample[] = [];
  const t0 = performance.now() + 5;
  const limit = Number.isFinite(opts.seconds) ? Math.round(opts.rate * opts.seconds) : Infinity;
  let sent = 0;
  let answered = 0;
  let stopped = false;
  let resolveDone!: () => void;
  const allAnswered = new Promise<void>((r) => (resolveDone = r));
  const finished = () => {
    answered++;
    if ((stopped || sent >= limit) && answered === sent) resolveDone();
  };
  const fire = (i: number) => {
    const due = t0 + i * interval;
    const sentAt = performance.now();
    const body = opts.bodies[i % opts.bodies.length]!;
    const req = httpRequest(
      { host: '127.0.0.1', port: opts.port, path: '/graphql', method: 'POST', agent, headers: { ...HEADERS, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          const now = performance.now();
          samples.push({ due, fromDue: now - due, fromSend: now - sentAt });
          opts.onAnswer(res.statusCode ?? 0, text);
          finished();
        });
      },
    );
    req.setTimeout(opts.timeoutMs, () => {
      opts.onTimeout?.();
      req.destroy();
    });
    req.on('error', (e) => {
      opts.onError(e, req.destroyed && /socket hang up|aborted/i.test(e.message));
      finished();
    });
    req.end(body);
  };
  const timer = setInterval(() => {
    const now = performance.now();
    while (!stopped && sent < limit && t0 + sent * interval <= now) fire(sent++);
    if (stopped || sent >= limit) {
      clearInterval(timer);
      if (answered === sent) resolveDone();
    }
  }, 1);
  const done = allAnswered.then(() => {
    agent.destroy();
    return { samples, t0, t1: t0 + sent * interval, sent };
  });
  return { stop: () => void (stopped = true), done };
}

/**
 * The benchmarks' open loop on POST /graphql: up to 256 sockets, a 10 s timeout per request, and
 * every timeout and network error counted in `tally` (answers are checked by `onAnswer`).
 */
export function checkedOpenLoop(opts: {
  port: number;
  rate: number;
  seconds: number;
  bodies: string[];
  tally: Tally;
  onAnswer: (status: number, text: string) => void;
}): OpenLoop {
  const { tally, ...load } = opts;
  return openLoop({
    ...load,
    maxSockets: 256,
    timeoutMs: 10_000,
    onTimeout: () => {
      tally.timeouts++;
      tally.firstError ??= 'timeout';
    },
    onError: (e, destroyed) => {
      if (!destroyed) tally.netErrors++;
      tally.firstError ??= e.message;
    },
  });
}
