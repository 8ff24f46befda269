import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/test-app.js';

const LIMIT = 256 * 1024;

/** A predictBatch that would store `n` spam predictions tagged with `marker`, as JSON bytes. */
function batchBody(marker: string, n: number, textLength: number): Buffer {
  const inputs = Array.from({ length: n }, (_, i) => ({ spam: { text: `${marker} ${i} `.padEnd(textLength, 'lorem ipsum ') } }));
  return Buffer.from(JSON.stringify({ query: 'mutation($i: [PredictInput!]!) { predictBatch(inputs: $i) { id } }', variables: { i: inputs } }));
}

/**
 * POSTs `body` over plain node:http, chunked (no Content-Length) or with its length, 16 KiB a
 * write, and resolves with the status as soon as the server answers (it may answer early).
 */
function post(url: string, body: Buffer, mode: 'chunked' | 'content-length'): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(mode === 'content-length' ? { 'content-length': String(body.length) } : {}),
      },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
      res.on('error', reject);
    });
    // Writes after an early answer may fail with EPIPE/ECONNRESET: the answer is what counts.
    req.on('error', () => {});
    let offset = 0;
    const writeMore = () => {
      while (offset < body.length) {
        const chunk = body.subarray(offset, offset + 16 * 1024);
        offset += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', writeMore);
      }
      req.end();
    };
    writeMore();
  });
}

describe('request body limit (MAX_BODY_BYTES)', () => {
  let sut: TestApp;
  beforeAll(async () => {
    sut = await startTestApp({ env: { MAX_BODY_BYTES: String(LIMIT) } });
  });
  afterAll(() => sut?.stop());

  const stored = async (marker: string) => {
    const { rows } = await sql<{ n: string }>`select count(*) as n from prediction where input->>'text' like ${`${marker}%`}`.execute(
      sut.app.orm.em.getKysely(),
    );
    return Number(rows[0]!.n);
  };

  it.each(['chunked', 'content-length'] as const)('refuses a %s body over the limit with 413 and stores nothing', async (mode) => {
    const marker = `over-${randomUUID()}`;
    const body = batchBody(marker, 40, 20_000); // ~800 KB: over 256 KiB
    expect(body.length).toBeGreaterThan(3 * LIMIT);
    const res = await post(sut.url, body, mode);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.text).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await stored(marker)).toBe(0);
  });

  it('refuses a large chunked body (the 22.9 MB of the report) without reading it all', async () => {
    const marker = `huge-${randomUUID()}`;
    const body = batchBody(marker, 1000, 22_900);
    expect(body.length).toBeGreaterThan(22_000_000);
    const res = await post(sut.url, body, 'chunked');
    expect(res.status).toBe(413);
    expect(await stored(marker)).toBe(0);
  });

  it.each(['chunked', 'content-length'] as const)('serves a %s body under the limit', async (mode) => {
    const marker = `under-${randomUUID()}`;
    const body = batchBody(marker, 10, 20_000); // ~200 KB
    expect(body.length).toBeLessThan(LIMIT);
    const res = await post(sut.url, body, mode);
    expect(res.status).toBe(200);
    const parsed = JSON.parse(res.text);
    expect(parsed.errors).toBeUndefined();
    expect(parsed.data.predictBatch).toHaveLength(10);
    expect(await stored(marker)).toBe(10);
  });

  it('keeps serving after refusals, on new connections', async () => {
    const res = await sut.gql(`mutation { predict(input: { spam: { text: "still here" } }) { id } }`);
    expect(res.errors).toBeUndefined();
  });
});
