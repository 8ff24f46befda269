// retrainStatus over graphql-ws: every push of every job of the watched models, timestamped on
// arrival, and how long each step of a job took according to those pushes.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

const RETRAIN_STATUS = /* GraphQL */ `subscription Status($model: String!) {
  retrainStatus(model: $model) { id model state progress version message attempts }
}`;
const FINAL = new Set(['PROMOTED', 'REJECTED', 'FAILED']);

export interface Push {
  t: number;
  id: string;
  state: string;
  progress: number;
  version: number | null;
  message: string | null;
  attempts: number;
}

export class StatusWatcher {
  readonly pushes = new Map<string, Push[]>();
  private readonly waiters = new Map<string, { resolve: (p: Push) => void; reject: (e: Error) => void }>();
  private readonly client: Client;
  readonly errors: string[] = [];

  /** `authorization`: sent as connectionParams (retrainStatus needs the READ scope). */
  constructor(port: number, models: string[], authorization?: string) {
    this.client = createClient({
      url: `ws://127.0.0.1:${port}/graphql`,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      ...(authorization ? { connectionParams: { authorization } } : {}),
    });
    for (const model of models) {
      this.client.subscribe<{ retrainStatus: Omit<Push, 't'> }>(
        { query: RETRAIN_STATUS, variables: { model } },
        {
          next: (r) => {
            const t = performance.now();
            if (r.errors) {
              this.failed(JSON.stringify(r.errors).slice(0, 300));
              return;
            }
            const job = r.data?.retrainStatus;
            if (!job) return;
            const push: Push = { t, ...job };
            const list = this.pushes.get(job.id) ?? [];
            list.push(push);
            this.pushes.set(job.id, list);
            if (FINAL.has(job.state)) this.waiters.get(job.id)?.resolve(push);
          },
          error: (e) => this.failed(`subscription ${model}: ${String((e as Error)?.message ?? JSON.stringify(e))}`),
          complete: () => {},
        },
      );
    }
  }

  /** A subscription failed: its pushes will not come, so nobody waits for them. */
  private failed(error: string): void {
    this.errors.push(error);
    for (const waiter of this.waiters.values()) waiter.reject(new Error(`retrainStatus: ${error}`));
  }

  /** Resolves with the job's final push (PROMOTED, REJECTED or FAILED); rejects once a subscription failed. */
  final(jobId: string, timeoutMs: number): Promise<Push> {
    const done = this.pushes.get(jobId)?.find((p) => FINAL.has(p.state));
    if (done) return Promise.resolve(done);
    if (this.errors.length > 0) return Promise.reject(new Error(`retrainStatus: ${this.errors[0]}`));
    return new Promise((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        this.waiters.delete(jobId);
      };
      const timer = setTimeout(() => (settle(), reject(new Error(`retrain ${jobId} not finished within ${timeoutMs} ms`))), timeoutMs);
      this.waiters.set(jobId, {
        resolve: (p) => (settle(), resolve(p)),
        reject: (e) => (settle(), reject(e)),
      });
    });
  }

  dispose() {
    return this.client.dispose();
  }
}

export interface StepTiming {
  /** Trigger sent -> first non-QUEUED push (queue pick-up). */
  queueMs: number;
  /** First non-QUEUED push -> final push. */
  endToEndMs: number;
  /** Trigger sent -> final push. */
  triggerToFinalMs: number;
  /** Each state until the next one. */
  steps: Record<string, number>;
  /** When the job ran: first non-QUEUED push and final push (performance.now()). */
  window: [number, number];
}

/** A job's timing from its pushes; `sentAt` is when its trigger was sent. */
export function stepTiming(pushes: Push[], sentAt: number): StepTiming {
  const distinct: Push[] = [];
  for (const p of [...pushes].sort((a, b) => a.t - b.t)) if (distinct.at(-1)?.state !== p.state) distinct.push(p);
  const startIdx = distinct.findIndex((p) => p.state !== 'QUEUED');
  const first = distinct[startIdx]!;
  const last = distinct.at(-1)!;
  const steps: Record<string, number> = {};
  for (let i = startIdx; i < distinct.length - 1; i++) steps[distinct[i]!.state] = (steps[distinct[i]!.state] ?? 0) + distinct[i + 1]!.t - distinct[i]!.t;
  return { queueMs: first.t - sentAt, endToEndMs: last.t - first.t, triggerToFinalMs: last.t - sentAt, steps, window: [first.t, last.t] };
}
