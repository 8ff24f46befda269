import { describe, expect, it } from 'vitest';
import { TaskRegistry } from './task-registry.js';
import type { Task } from './task.js';

/** What validate says of an input: the normalised input, or null when it refuses it. */
function zod(task: Task, input: unknown): unknown {
  try {
    return task.validate(input);
  } catch {
    return null;
  }
}

const FRAUD = { amount: 42.5, hour: 14, dayOfWeek: 3, merchantCategory: 'grocery', previousAmount: 40, timeSinceLast: 20 };

/** Inputs at and around every rule of featureValidator: the plain check may pass only what zod returns unchanged. */
const fraudInputs: unknown[] = [
  FRAUD,
  { ...FRAUD, amount: 0 }, // exclusive minimum
  { ...FRAUD, amount: Number.MIN_VALUE },
  { ...FRAUD, amount: 1_000_000 },
  { ...FRAUD, amount: 1_000_000.01 },
  { ...FRAUD, amount: -1 },
  { ...FRAUD, amount: Number.NaN },
  { ...FRAUD, amount: Infinity },
  { ...FRAUD, amount: '42' },
  { ...FRAUD, hour: 3.5 }, // an int
  { ...FRAUD, hour: -0 },
  { ...FRAUD, hour: 23 },
  { ...FRAUD, hour: 24 },
  { ...FRAUD, previousAmount: 0 }, // an inclusive minimum
  { ...FRAUD, merchantCategory: ' grocery' }, // zod trims: valid, but not unchanged
  { ...FRAUD, merchantCategory: 'grocery\n' },
  { ...FRAUD, merchantCategory: '' },
  { ...FRAUD, merchantCategory: '   ' },
  { ...FRAUD, merchantCategory: 'x'.repeat(64) },
  { ...FRAUD, merchantCategory: 'x'.repeat(65) },
  { ...FRAUD, merchantCategory: 'a\u0000b' },
  { ...FRAUD, merchantCategory: 'a\ud800b' },
  { ...FRAUD, merchantCategory: 'caf\u00e9 \ud83d\ude00' }, // a paired surrogate is storable: zod decides
  { ...FRAUD, merchantCategory: 7 },
  { ...FRAUD, extra: 1 },
  { ...FRAUD, merchantCategory: undefined },
  (({ hour: _hour, ...rest }) => rest)(FRAUD),
  JSON.parse(`{"__proto__": 1, ${JSON.stringify(FRAUD).slice(1)}`),
  null,
  [],
  'text',
  42,
];

const spamInputs: unknown[] = [
  { text: 'Subject: lunch\n\nat noon?' },
  { text: '  padded but not empty  ' }, // text is not trimmed: unchanged
  { text: '   ' },
  { text: '' },
  { text: 'nul \u0000 inside' },
  { text: 'lone \udfff half' },
  { text: 'x'.repeat(100_001) },
  { text: 3 },
  { text: 'ok', extra: true },
  {},
];

describe('Task.isPlainValid: the plain check passes only what validate returns unchanged', () => {
  it.each([
    ['fraud', fraudInputs],
    ['spam', spamInputs],
  ] as const)('%s', async (name, inputs) => {
    const task = (await TaskRegistry.load()).get(name)!;
    let passed = 0;
    for (const input of inputs) {
      const plain = task.isPlainValid(input);
      if (plain) {
        passed++;
        expect(zod(task, input), JSON.stringify(input)).toEqual(input);
      }
    }
    // The common case takes the plain path.
    expect(task.isPlainValid(inputs[0])).toBe(true);
    expect(passed).toBeGreaterThan(1);
  });

  it('passes exactly the inputs zod returns unchanged, on a sample of generated inputs', async () => {
    const task = (await TaskRegistry.load()).get('fraud')!;
    const values = [0, -0, 1, 2.5, 23, 24, -3, 1e6, 1e6 + 1, 87600, 87601, Number.NaN, 'a', ' a', '', null];
    let seed = 7;
    const pick = () => values[(seed = (seed * 48271) % 2147483647) % values.length];
    for (let i = 0; i < 5000; i++) {
      const input: Record<string, unknown> = {};
      for (const f of task.definition.features) input[f.name] = f.type === 'category' ? (i % 3 ? 'fuel' : pick()) : pick();
      const normalised = zod(task, input);
      const unchanged = normalised !== null && JSON.stringify(normalised) === JSON.stringify(input);
      expect(task.isPlainValid(input), JSON.stringify(input)).toBe(unchanged);
    }
  });
});
