// The dashboard's list of recent predictions through the API: keyset pages, every filter, the
// feedback on each row, typed errors for bad filters, the READ scope, the index it reads along,
// and why each prediction was made (`explanation`).
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PredictionListRepository } from './prediction-list.repository.js';
import { ADMIN_TOKEN, aFraudInput, startTestApp, type TestApp } from '../../test/test-app.js';

const LIST = /* GraphQL */ `
  query List($model: String!, $filter: PredictionFilter, $first: Int, $after: ID) {
    predictions(model: $model, filter: $filter, first: $first, after: $after) {
      hasMore
      endCursor
      items { id label createdAt feedbackRequested modelVersion { version } feedback { actual correct source } }
    }
  }
`;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}
const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

interface Row {
  id: string;
  label: string;
  feedbackRequested: boolean;
  feedback: { actual: string; correct: boolean; source: string } | null;
}

describe('predictions (the list of recent predictions)', () => {
  let sut: TestApp;
  let labellerKey: string;
  const ids: string[] = [];
  const asAdmin = (query: string, variables?: Record<string, unknown>) => sut.gql(query, variables, { token: ADMIN_TOKEN });

  beforeAll(async () => {
    // Keys required: the list is an operational read (READ); the admin token has it.
    sut = await startTestApp({ env: { AUTH_MODE: 'keys', TRUSTED_SOURCES: 'labeller' } });
    const created = await asAdmin(`mutation { createApiKey(input: { principal: "labeller", scopes: [FEEDBACK] }) { key } }`);
    labellerKey = created.data.createApiKey.key;
    // 12 predictions, oldest first: amounts that read legit and fraud in turn.
    for (let i = 0; i < 12; i++) {
      const input = i % 2 === 0 ? aFraudInput({ amount: 20 + i }) : aFraudInput({ amount: 4000 + i, hour: 3, merchantCategory: 'crypto', timeSinceLast: 0.1 });
      const res = await asAdmin(`mutation($input: PredictInput!) { predict(input: $input) { id } }`, { input: { fraud: input } });
      ids.push(res.data.predict.id);
    }
  });
  afterAll(() => sut?.stop());

  const list = async (variables: Record<string, unknown>) => {
    const res = await asAdmin(LIST, { model: 'fraud', ...variables });
    expect(res.errors).toBeUndefined();
    return res.data.predictions as { hasMore: boolean; endCursor: string | null; items: Row[] };
  };

  it('pages newest first along (createdAt, id) without losing or repeating a row', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const p = await list({ first: 5, after });
      seen.push(...p.items.map((r) => r.id));
      if (!p.hasMore) {
        expect(p.endCursor).toBeNull();
        break;
      }
      after = p.endCursor;
    }
    expect(seen).toEqual([...ids].reverse());
  });

  it('filters by predicted label, feedback, source, unlabelled, feedbackRequested and version', async () => {
    const all = (await list({ first: 100 })).items;
    const legit = all.filter((r) => r.label === 'legit');
    const fraud = all.filter((r) => r.label === 'fraud');
    expect(legit.length).toBeGreaterThan(0);
    expect(fraud.length).toBeGreaterThan(0);
    // One wrong answer from the admin, one right one from the labeller.
    const wrongId = legit[0]!.id;
    const rightId = fraud[0]!.id;
    await asAdmin(`mutation($id: ID!) { submitFeedback(input: { predictionId: $id, actual: "fraud" }) { id } }`, { id: wrongId });
    const right = await sut.gql(
      `mutation($id: ID!) { submitFeedback(input: { predictionId: $id, correct: true }) { id } }`,
      { id: rightId },
      { token: labellerKey },
    );
    expect(right.errors).toBeUndefined();

    expect((await list({ filter: { predictedLabel: 'legit' } })).items.map((r) => r.id)).toEqual(legit.map((r) => r.id));
    const wrong = (await list({ filter: { wrong: true } })).items;
    expect(wrong.map((r) => r.id)).toEqual([wrongId]);
    expect(wrong[0]!.feedback).toEqual({ actual: 'fraud', correct: false, source: 'admin' });
    expect((await list({ filter: { wrong: false } })).items.map((r) => r.id)).toEqual([rightId]);
    expect((await list({ filter: { actualLabel: 'fraud' } })).items.map((r) => r.id).sort()).toEqual([wrongId, rightId].sort());
    expect((await list({ filter: { source: 'labeller' } })).items.map((r) => r.id)).toEqual([rightId]);
    const unlabelled = (await list({ filter: { unlabelled: true }, first: 100 })).items;
    expect(unlabelled).toHaveLength(10);
    expect(unlabelled.every((r) => r.feedback === null)).toBe(true);
    expect((await list({ filter: { unlabelled: false } })).items).toHaveLength(2);
    const requested = all.filter((r) => r.feedbackRequested).map((r) => r.id);
    expect((await list({ filter: { feedbackRequested: true }, first: 100 })).items.map((r) => r.id)).toEqual(requested);
    expect((await list({ filter: { feedbackRequested: false }, first: 100 })).items).toHaveLength(12 - requested.length);
    expect((await list({ filter: { version: 1 }, first: 100 })).items).toHaveLength(12);
    // The sources view: per source its labels, agreement with an interval, and trust.
    const sources = await asAdmin(
      `{ feedbackSources(model: "fraud") { source feedbackCount labelledCount agreement agreementInterval { lower upper } quarantinedCount trust { trusted } } }`,
    );
    expect(sources.errors).toBeUndefined();
    const labeller = sources.data.feedbackSources.find((s: { source: string }) => s.source === 'labeller');
    expect(labeller).toMatchObject({ feedbackCount: 1, labelledCount: 1, agreement: 1, quarantinedCount: 0, trust: { trusted: true } });
    expect(labeller.agreementInterval.upper).toBe(1);
    expect(labeller.agreementInterval.lower).toBeGreaterThan(0);
    expect(labeller.agreementInterval.lower).toBeLessThan(1);
    // A single prediction reads its feedback too.
    const one = await asAdmin(`query($id: ID!) { prediction(id: $id) { feedback { actual source } } }`, { id: wrongId });
    expect(one.data.prediction.feedback).toEqual({ actual: 'fraud', source: 'admin' });
  });

  it('refuses bad arguments with BAD_USER_INPUT naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ first: 0 }, 'first'],
      [{ first: 101 }, 'first'],
      [{ after: 'not-a-cursor' }, 'after'],
      [{ filter: { predictedLabel: 'spam' } }, 'filter.predictedLabel'],
      [{ filter: { actualLabel: 'nope' } }, 'filter.actualLabel'],
      [{ filter: { version: 99 } }, 'filter.version'],
      [{ filter: { unlabelled: true, wrong: true } }, 'filter.wrong'],
      [{ filter: { source: '' } }, 'filter.source'],
      [{ model: 'nope' }, 'model'],
    ];
    for (const [variables, field] of cases) {
      const res = await asAdmin(LIST, { model: 'fraud', ...variables });
      expect(res.errors?.[0]?.extensions, JSON.stringify(variables)).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
  });

  it('needs the READ scope', async () => {
    const anonymous = await sut.gql(LIST, { model: 'fraud' });
    expect(anonymous.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', scope: 'READ' });
    const labeller = await sut.gql(LIST, { model: 'fraud' }, { token: labellerKey });
    expect(labeller.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', scope: 'READ' });
  });

  it('explains a prediction: contributions plus the prior log-ratio make the log probability ratio', async () => {
    const res = await asAdmin(
      `mutation($input: PredictInput!) { predict(input: $input) { label scores { label probability }
         explanation(tokens: 5) { label runnerUp probability runnerUpProbability priorLogRatio logProbabilityRatio basis version
           contributions { feature kind contribution tokens { token contribution } otherTokenCount otherTokensContribution unknownTokenCount } } } }`,
      { input: { spam: { text: 'WIN a FREE prize now!!! Click here to claim your cash reward, meeting moved to 3pm qwzxv' } } },
    );
    expect(res.errors).toBeUndefined();
    const { label, scores, explanation: e } = res.data.predict;
    expect(e).toMatchObject({ label, basis: 'LIVE_MODEL', version: 1 });
    const p = scores.find((s: { label: string }) => s.label === e.label).probability;
    const q = scores.find((s: { label: string }) => s.label === e.runnerUp).probability;
    expect(e.logProbabilityRatio).toBeCloseTo(Math.log(p / q), 6);
    const text = e.contributions.find((c: { kind: string }) => c.kind === 'text');
    expect(text.tokens.length).toBeLessThanOrEqual(5);
    expect(text.unknownTokenCount).toBeGreaterThanOrEqual(1); // qwzxv
    const tokenSum = text.tokens.reduce((s: number, t: { contribution: number }) => s + t.contribution, 0) + text.otherTokensContribution;
    expect(tokenSum).toBeCloseTo(text.contribution, 9);
    const sum = e.contributions.reduce((s: number, c: { contribution: number }) => s + c.contribution, 0);
    expect(e.priorLogRatio + sum).toBeCloseTo(e.logProbabilityRatio, 9);

    // Served before the live model learned two feedback: rebuilt as it served (exact), the
    // explanation gives back the served probabilities' log ratio.
    const served = await asAdmin(
      `query($id: ID!) { prediction(id: $id) { scores { label probability } explanation(exact: true) { basis label runnerUp logProbabilityRatio } } }`,
      { id: ids[0] },
    );
    expect(served.errors).toBeUndefined();
    const ex = served.data.prediction.explanation;
    expect(ex.basis).toBe('AS_SERVED');
    const prob = (l: string) => served.data.prediction.scores.find((s: { label: string }) => s.label === l).probability;
    expect(Math.abs(ex.logProbabilityRatio - Math.log(prob(ex.label) / prob(ex.runnerUp)))).toBeLessThan(1e-9);

    // Replaying is priced: one exact explanation is fine, a page of them is refused before it runs.
    const replays = await asAdmin(`{ predictions(model: "spam", first: 100) { items { explanation(exact: true) { label } } } }`);
    expect(replays.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'cost' });

    const tooMany = await asAdmin(`query($id: ID!) { prediction(id: $id) { explanation(tokens: 100000) { label } } }`, { id: ids[0] });
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tokens' });
    const fraud = await asAdmin(`query($id: ID!) { prediction(id: $id) { explanation { contributions { feature kind value } } } }`, { id: ids[1] });
    expect(fraud.data.prediction.explanation.contributions.map((c: { feature: string }) => c.feature).sort()).toEqual(
      ['amount', 'dayOfWeek', 'hour', 'merchantCategory', 'previousAmount', 'timeSinceLast'].sort(),
    );
  });

  it('reads along the (model, created_at) index on 120,000 predictions, filtered or not', async () => {
    const db = sut.app.orm.em.getKysely();
    const version = await sql<{ id: number }>`select id from model_version where model = 'fraud' and version = 1`.execute(db);
    const versionId = version.rows[0]!.id;
    await sql`insert into prediction (id, model, model_version_id, input, label, probability, scores, latency_ms, created_at, feedback_requested)
      select gen_random_uuid(), 'fraud', ${versionId}, ${JSON.stringify(aFraudInput())}::jsonb,
             case when i % 10 = 0 then 'fraud' else 'legit' end, 0.9, '[]'::jsonb, 0.1,
             now() - make_interval(secs => i * 20), i % 50 = 0
      from generate_series(1, 120000) i`.execute(db);
    // Feedback on one in four of them (a tenth of it wrong), from two sources.
    await sql`insert into feedback (model, prediction_id, predicted, actual, correct, source, created_at)
      select 'fraud', id, label, case when n % 10 = 0 then (case when label = 'fraud' then 'legit' else 'fraud' end) else label end, n % 10 <> 0,
             case when n % 3 = 0 then 'labeller' else 'crowd' end, created_at + interval '1 minute'
      from (select id, label, created_at, row_number() over (order by created_at) as n from prediction where model = 'fraud' and not exists (select from feedback f where f.prediction_id = prediction.id)) p
      where n % 4 = 0`.execute(db);
    await sql`analyze prediction`.execute(db);
    await sql`analyze feedback`.execute(db);
    const repository = new PredictionListRepository(sut.app.orm);
    const plans: Record<string, string> = {};
    const read: Record<string, string> = {};
    const after = { createdAt: new Date(Date.now() - 86_400_000).toISOString().replace('Z', '000Z'), id: '00000000-0000-4000-8000-000000000000' };
    const shapes = {
      first: [{}, null],
      next: [{}, after],
      predictedLabel: [{ predictedLabel: 'fraud' }, after],
      feedbackRequested: [{ feedbackRequested: true }, null],
      version: [{ modelVersionId: versionId }, after],
      unlabelled: [{ unlabelled: true }, null],
      wrong: [{ wrong: true }, null],
      source: [{ source: 'labeller' }, after],
      actualLabel: [{ actualLabel: 'fraud' }, null],
    } as const;
    for (const [name, [filter, key]] of Object.entries(shapes)) {
      const q = repository.query('fraud', filter, 51, key);
      const { rows } = await sql<{ 'QUERY PLAN': unknown }>`explain (analyze, format json) ${q}`.execute(db);
      plans[name] = JSON.stringify(rows[0]!['QUERY PLAN']);
    }
    for (const [name, plan] of Object.entries(plans)) {
      // Never a sequential scan: backwards along (model, created_at) (per partition once
      // prediction is partitioned), the feedback probed by its unique prediction_id, then the
      // page's few rows by primary key.
      const scans = nodes((JSON.parse(plan) as { Plan: PlanNode }[])[0]!.Plan).filter(
        (n) => n['Relation Name']?.startsWith('prediction') || n['Relation Name'] === 'feedback',
      );
      read[name] = scans.map((n) => `${n['Relation Name']}: ${n['Index Name'] ?? n['Node Type']}`).join(', ');
      expect(
        // (an empty partition may be scanned sequentially: it reads nothing)
        scans.filter((n) => n['Node Type'] === 'Seq Scan' && (n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0) > 0),
        `${name}: ${read[name]}`,
      ).toEqual([]);
      expect(read[name], `${name}: ${read[name]}`).toMatch(/prediction\w*: prediction\w*_created_at/);
    }
    // The figures for the README (not asserted: the machine is shared).
    const times = Object.fromEntries(Object.entries(plans).map(([n, p]) => [n, (JSON.parse(p) as { 'Execution Time': number }[])[0]!['Execution Time']]));
    console.info('predictions list on 120k rows, execution ms:', times, read);
  });
});

describe('predictions on the embedded database (PGlite)', () => {
  let sut: TestApp;
  beforeAll(async () => {
    sut = await startTestApp({ database: 'embedded' });
  });
  afterAll(() => sut?.stop());

  it('pages, filters and explains the same way', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await sut.gql(`mutation($input: PredictInput!) { predict(input: $input) { id } }`, { input: { fraud: aFraudInput({ amount: 30 + i }) } });
      ids.push(res.data.predict.id);
    }
    await sut.gql(`mutation($id: ID!) { submitFeedback(input: { predictionId: $id, correct: false }) { id } }`, { id: ids[2] });
    const page = async (variables: Record<string, unknown>) => (await sut.gql(LIST, { model: 'fraud', ...variables })).data.predictions;
    const first = await page({ first: 3 });
    const second = await page({ first: 3, after: first.endCursor });
    expect([...first.items, ...second.items].map((r: Row) => r.id)).toEqual([...ids].reverse());
    expect(second.hasMore).toBe(false);
    expect((await page({ filter: { wrong: true } })).items.map((r: Row) => r.id)).toEqual([ids[2]]);
    expect((await page({ filter: { unlabelled: true } })).items).toHaveLength(4);
    const e = await sut.gql(`query($id: ID!) { prediction(id: $id) { explanation { priorLogRatio logProbabilityRatio contributions { contribution } } } }`, {
      id: ids[0],
    });
    const { priorLogRatio, logProbabilityRatio, contributions } = e.data.prediction.explanation;
    const sum = contributions.reduce((s: number, c: { contribution: number }) => s + c.contribution, priorLogRatio);
    expect(Math.abs(sum - logProbabilityRatio)).toBeLessThan(1e-9);
  });
});
