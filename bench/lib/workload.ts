// What the benchmarks send: one constant document per operation, inputs varying as variables.
import { checkJson, type Tally } from './checks.js';

export const HEADERS = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };

const CATEGORIES = ['grocery', 'travel', 'crypto', 'electronics', 'restaurant', 'fuel', 'gaming', 'pharmacy'];

/** Deterministic, valid fraud inputs. */
export function fraudInput(i: number) {
  return {
    amount: Math.round((5 + ((i * 7919) % 250_000) / 100) * 100) / 100,
    hour: (i * 5) % 24,
    dayOfWeek: (i * 3) % 7,
    merchantCategory: CATEGORIES[i % CATEGORIES.length]!,
    previousAmount: Math.round((((i * 104_729) % 90_000) / 100) * 100) / 100,
    timeSinceLast: ((i * 37) % 2000) / 10,
  };
}

/** The predict mutation every benchmark sends (`modelVersion` may be left out, as a diagnostic). */
export function predictDocument({ selectModelVersion = true } = {}): string {
  return /* GraphQL */ `mutation Predict($input: PredictInput!) {
  predict(input: $input) { id model label probability scores { label probability } ${selectModelVersion ? 'modelVersion { version } ' : ''}createdAt }
}`;
}

export const PREDICT_BATCH = /* GraphQL */ `mutation PredictBatch($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id } }`;

/** 48 request bodies of `document`, each with other fraud inputs. */
export function predictBodies(document: string): string[] {
  return Array.from({ length: 48 }, (_, i) => JSON.stringify({ query: document, variables: { input: { fraud: fraudInput(i) } } }));
}

/** One GraphQL request: status, content type and the raw text of the answer. */
export async function postGraphql(base: string, query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/graphql`, { method: 'POST', headers: { ...HEADERS, ...headers }, body: JSON.stringify({ query, variables }) });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type') ?? 'application/json', text };
}

/**
 * One GraphQL request whose answer is checked into `tally` (see checkJson): the parsed answer, or
 * null when it failed (counted). Network errors and a 60 s timeout are counted too.
 */
export async function checkedGraphql(
  base: string,
  tally: Tally,
  query: string,
  variables: Record<string, unknown>,
  ok: (json: any) => boolean,
  headers: Record<string, string> = {},
): Promise<any> {
  try {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { ...HEADERS, ...headers },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(60_000),
    });
    return checkJson(tally, res.status, await res.text(), ok);
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') tally.timeouts++;
    else tally.netErrors++;
    tally.firstError ??= String(error);
    return null;
  }
}

/**
 * Predictions of `inputs` (PredictInput objects) through predictBatch, `chunk` per request and
 * `parallel` requests at a time: the ids in the inputs' order, null where a request failed (counted in `tally`).
 */
export async function predictMany(base: string, tally: Tally, inputs: unknown[], { chunk = 500, parallel = 1 } = {}): Promise<(string | null)[]> {
  const ids: (string | null)[] = [];
  for (let i = 0; i < inputs.length; i += chunk * parallel) {
    const starts = Array.from({ length: parallel }, (_, k) => i + k * chunk).filter((start) => start < inputs.length);
    const answers = await Promise.all(
      starts.map((start) => {
        const part = inputs.slice(start, start + chunk);
        return checkedGraphql(
          base,
          tally,
          PREDICT_BATCH,
          { inputs: part },
          (j) => Array.isArray(j.data?.predictBatch) && j.data.predictBatch.length === part.length,
        );
      }),
    );
    starts.forEach((start, k) => {
      const part = Math.min(chunk, inputs.length - start);
      for (let n = 0; n < part; n++) ids.push(answers[k]?.data.predictBatch[n].id ?? null);
    });
  }
  return ids;
}
