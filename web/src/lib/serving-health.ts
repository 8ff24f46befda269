// Serving health from the API process's own Prometheus endpoint (/metrics): predictions per
// second and latency percentiles over the interval between two reads, as Prometheus' rate() and
// histogram_quantile() would give them.

export interface ServingSample {
  at: number;
  predictions: number;
  /** Cumulative latency histogram: upper bound (s) -> requests at or under it (+Inf included). */
  buckets: Map<number, number>;
  requests: number;
  /** GraphQL answers of this process (every model): all of them, those with errors, and errors by code. */
  answers: number;
  errorAnswers: number;
  errorCodes: Map<string, number>;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/;

function labels(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of (text ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) out[m[1]!] = m[2]!;
  return out;
}

/** One model's serving counters from the Prometheus text exposition format. */
export function parseServingSample(text: string, model: string, at: number): ServingSample {
  const sample: ServingSample = { at, predictions: 0, buckets: new Map(), requests: 0, answers: 0, errorAnswers: 0, errorCodes: new Map() };
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const [, name, , rawLabels] = m;
    const value = Number(m[4]);
    if (!Number.isFinite(value) && m[4] !== '+Inf') continue;
    const l = labels(rawLabels);
    // Answers are counted per process, not per model (one request may touch several).
    if (name === 'relearn_graphql_responses_total') {
      sample.answers += value;
      if (l.outcome === 'error') sample.errorAnswers += value;
      continue;
    }
    if (name === 'relearn_graphql_errors_total' && l.code) {
      sample.errorCodes.set(l.code, (sample.errorCodes.get(l.code) ?? 0) + value);
      continue;
    }
    if (l.model !== model) continue;
    if (name === 'relearn_predictions_total') sample.predictions += value;
    else if (name === 'relearn_predict_duration_seconds_count') sample.requests += value;
    else if (name === 'relearn_predict_duration_seconds_bucket' && l.le) {
      const le = l.le === '+Inf' ? Infinity : Number(l.le);
      sample.buckets.set(le, (sample.buckets.get(le) ?? 0) + value);
    }
  }
  return sample;
}

/** The q-quantile of a cumulative histogram, interpolated linearly inside its bucket (histogram_quantile). */
export function histogramQuantile(q: number, buckets: Map<number, number>): number | null {
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Infinity) return lowerBound; // beyond the last finite bound: its value, as Prometheus does
      const inBucket = count - lowerCount;
      return inBucket > 0 ? lowerBound + (le - lowerBound) * ((rank - lowerCount) / inBucket) : le;
    }
    lowerBound = le;
    lowerCount = count;
  }
  return lowerBound;
}

export interface ServingHealth {
  predictionsPerSecond: number | null;
  p50: number | null;
  p99: number | null;
  /** Requests the percentiles are computed over, and over how long (null: since the process started). */
  requests: number;
  seconds: number | null;
  /** Share of GraphQL answers with errors over the same interval (null: no answers), and the commonest codes. */
  errorRate: number | null;
  topErrorCodes: { code: string; count: number }[];
}

/** The share of answers with errors, and the codes most seen, between two reads (or since the start). */
function errorsBetween(previous: ServingSample | null, current: ServingSample): Pick<ServingHealth, 'errorRate' | 'topErrorCodes'> {
  const since = previous && current.answers >= previous.answers ? previous : null;
  const answers = current.answers - (since?.answers ?? 0);
  const errors = current.errorAnswers - (since?.errorAnswers ?? 0);
  const codes = [...current.errorCodes]
    .map(([code, n]) => ({ code, count: n - (since?.errorCodes.get(code) ?? 0) }))
    .filter((c) => c.count > 0)
    .sort((a, b) => b.count - a.count)
    .slice(0, 3);
  return { errorRate: answers > 0 ? errors / answers : null, topErrorCodes: codes };
}

/** Between two reads; with one read, the percentiles since the process started and no rate. */
export function servingHealth(previous: ServingSample | null, current: ServingSample): ServingHealth {
  if (!previous || current.requests < previous.requests) {
    return {
      predictionsPerSecond: null,
      p50: histogramQuantile(0.5, current.buckets),
      p99: histogramQuantile(0.99, current.buckets),
      requests: current.requests,
      seconds: null,
      ...errorsBetween(null, current),
    };
  }
  const seconds = (current.at - previous.at) / 1000;
  const delta = new Map([...current.buckets].map(([le, n]) => [le, n - (previous.buckets.get(le) ?? 0)]));
  const requests = current.requests - previous.requests;
  const useDelta = requests > 0;
  return {
    predictionsPerSecond: seconds > 0 ? (current.predictions - previous.predictions) / seconds : null,
    p50: histogramQuantile(0.5, useDelta ? delta : current.buckets),
    p99: histogramQuantile(0.99, useDelta ? delta : current.buckets),
    requests: useDelta ? requests : current.requests,
    seconds: useDelta ? seconds : null,
    ...errorsBetween(previous, current),
  };
}
