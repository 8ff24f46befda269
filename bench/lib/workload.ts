// What the benchmarks send: one constant document per operation, inputs varying as variables.

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
