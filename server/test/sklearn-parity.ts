/**
 * Trains scikit-learn on exactly the rows a Relearn model learned (online, one row at a time) and
 * compares `predict_proba` on probe inputs. The columns scikit-learn sees are the model's own
 * feature space: a categorical feature's seen buckets as ordinal categories plus one more for
 * "any value not seen" (CategoricalNB with min_categories = V + 1), and text as counts of the
 * token buckets seen in training (unseen tokens dropped, as a fitted vectorizer drops them).
 * Used by the parity test and `npm run bench:quality`.
 */
import { runScikitLearn } from '../../scripts/services/scikit-learn.js';
import { NaiveBayesModel, type EncodedExample, type LabelledExample, type NaiveBayesSpec } from '../src/ml/naive-bayes.js';

const SCRIPT = String.raw`
import json, sys
import numpy as np
from scipy.sparse import csr_matrix
from sklearn.naive_bayes import GaussianNB, CategoricalNB, MultinomialNB, ComplementNB
from sklearn.feature_extraction.text import TfidfTransformer

d = json.load(sys.stdin)
y = np.array(d['y'])
k = d['k']
def sparse(rows, width):
    data, ind, ptr = [], [], [0]
    for r in rows:
        for j, v in r:
            ind.append(j); data.append(v)
        ptr.append(len(ind))
    return csr_matrix((np.array(data, dtype=float), np.array(ind, dtype=np.int64), np.array(ptr, dtype=np.int64)), shape=(len(rows), width))

parts = []   # joint log likelihoods, each with the class log prior once
prior = None
if d['gaussian']:
    m = GaussianNB(var_smoothing=d['varSmoothing']).fit(np.array(d['train']['g'], dtype=float), y)
    parts.append(m.predict_joint_log_proba(np.array(d['probe']['g'], dtype=float)))
    prior = np.log(m.class_prior_)
if d['categorical']:
    m = CategoricalNB(alpha=1.0, min_categories=np.array(d['categorySizes']) + 1).fit(np.array(d['train']['c'], dtype=np.int64), y)
    parts.append(m.predict_joint_log_proba(np.array(d['probe']['c'], dtype=np.int64)))
    prior = m.class_log_prior_
if d['text']:
    V = d['vocabulary']
    Xt = sparse(d['train']['t'], V)
    Xp = sparse(d['probe']['t'], V)
    if d['tfidf']:
        tf = TfidfTransformer(norm=None, smooth_idf=True, sublinear_tf=False).fit(Xt)
        Xt, Xp = tf.transform(Xt), tf.transform(Xp)
    m = (ComplementNB(alpha=1.0, norm=False) if d['text'] == 'complement' else MultinomialNB(alpha=1.0)).fit(Xt, y)
    parts.append(m.predict_joint_log_proba(Xp))
    prior = m.class_log_prior_
jll = sum(parts) - (len(parts) - 1) * prior
jll = jll - jll.max(axis=1, keepdims=True)
p = np.exp(jll)
p = p / p.sum(axis=1, keepdims=True)
assert list(m.classes_) == list(range(k))
json.dump(p.tolist(), sys.stdout)
`;

export interface ParityResult {
  /** Largest |p_relearn − p_sklearn| over every probe and label. */
  maxAbsDiff: number;
  probes: number;
  /** The model that was compared (learned online). */
  model: NaiveBayesModel;
}

/** Learns `train` online with `spec`, fits scikit-learn on the same rows, compares on `probes`. */
export async function compareWithScikitLearn(spec: NaiveBayesSpec, train: LabelledExample[], probes: EncodedExample[]): Promise<ParityResult> {
  const model = NaiveBayesModel.create(spec);
  for (const row of train) model.learn(row.x, row.label);
  const s = model.spec;
  const stats = model.statistics;
  // Ordinal codes of each categorical feature's seen buckets; V (one past them) for anything unseen.
  const categoryCodes = stats.categories.map((table) => {
    const codes = new Map<number, number>();
    table.forEachUsed((b) => codes.set(b, codes.size));
    return { table, codes };
  });
  const columns = new Map<number, number>();
  stats.tokenCounts.forEachUsed((b) => columns.set(b, columns.size));
  const encode = (x: EncodedExample) => ({
    g: x.gaussian,
    c: categoryCodes.map(({ table, codes }, f) => codes.get(table.bucketOf(x.categorical[f]!)) ?? codes.size),
    t: s.multinomial ? textColumns(x, stats.tokenCounts.bucketOf.bind(stats.tokenCounts), columns) : [],
  });
  const rows = train.map((r) => encode(r.x));
  const probeRows = probes.map(encode);
  const payload = {
    k: s.labels.length,
    y: train.map((r) => model.labelIndexOf(r.label)),
    gaussian: s.gaussian.length > 0,
    varSmoothing: s.gaussianVariance === 'population' ? s.varSmoothing : Number.NaN,
    categorical: s.categorical.length > 0,
    categorySizes: categoryCodes.map(({ codes }) => codes.size),
    text: s.multinomial ? s.text : null,
    tfidf: s.tfidf,
    vocabulary: columns.size,
    train: { g: rows.map((r) => r.g), c: rows.map((r) => r.c), t: rows.map((r) => r.t) },
    probe: { g: probeRows.map((r) => r.g), c: probeRows.map((r) => r.c), t: probeRows.map((r) => r.t) },
  };
  if (s.gaussian.length > 0 && s.gaussianVariance !== 'population')
    throw new Error('scikit-learn has no unbiased-variance GaussianNB: compare the population estimator');
  if (s.categorical.length > 0 && s.categories !== 'categorical')
    throw new Error('scikit-learn has no estimator for the laplace categories: compare the categorical one');
  const reference = await runScikitLearn<number[][]>(SCRIPT, payload);
  let maxAbsDiff = 0;
  probes.forEach((x, i) => {
    const ours = model.predictProba(x);
    ours.forEach((p, c) => (maxAbsDiff = Math.max(maxAbsDiff, Math.abs(p - reference[i]![c]!))));
  });
  return { maxAbsDiff, probes: probes.length, model };
}

function textColumns(x: EncodedExample, bucketOf: (token: string) => number, columns: Map<number, number>): [number, number][] {
  const byColumn = new Map<number, number>();
  for (const [token, n] of x.tokens ?? []) {
    const column = columns.get(bucketOf(token));
    if (column !== undefined && n > 0) byColumn.set(column, (byColumn.get(column) ?? 0) + n);
  }
  return [...byColumn].sort((a, b) => a[0] - b[0]);
}
