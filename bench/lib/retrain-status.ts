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
  private readonly waiters = new Map<string, (p: Push) => void>();
  private readonly client: Client;
  readonly errors: string[] = [];

  constructor(port: number, models: string[]) {
    this.client = createClient({ url: `ws://127.0.0.1:${port}/graphql`, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0 });
    for (const model of models) {
      this.client.subscribe<{ retrainStatus: Omit<Push, 't'> }>(
        { query: RETRAIN_STATUS, variables: { model } },
        {
          next: (r) => {
            const t = performance.now();
            if (r.errors) {
              this.errors.push(JSON.stringify(r.errors).slice(0, 300));
              return;
            }
            const job = r.data?.retrainStatus;
            if (!job) return;
            const push: Push = { t, ...job };
            const list = this.pushes.get(job.id) ?? [];
            list.push(push);
            this.pushes.set(job.id, list);
            if (FINAL.has(job.state)) this.waiters.get(job.id)?.(push);
          },
          error: (e) => this.errors.push(`subscription ${model}: ${String((e as Error)?.message ?? JSON.stringify(e))}`),
          complete: () => {},
        },
      );
    }
  }

  /** Resolves with the job's final push (PROMOTED, REJECTED or FAILED). */
  final(jobId: string, timeoutMs: number): Promise<Push> {
    const done = this.pushes.get(jobId)?.find((p) => FINAL.has(p.state));
    if (done) return Promise.resolve(done);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`retrain ${jobId} not finished within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.set(jobId, (p) => {
        clearTimeout(timer);
        this.waiters.delete(jobId);
        resolve(p);
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
