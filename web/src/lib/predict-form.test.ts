import { describe, expect, it } from 'vitest';
import type { Feature } from './graphql/types.js';
import { featureLabel, inputAttributes, inputKind, parseField, parseForm, predictInput } from './predict-form.js';

const feature = (over: Partial<Feature>): Feature => ({
  name: 'x',
  type: 'float',
  min: null,
  max: null,
  exclusiveMin: false,
  maxLength: null,
  description: null,
  ...over,
});
const amount = feature({ name: 'amount', type: 'float', min: 0, exclusiveMin: true, max: 1_000_000 });
const hour = feature({ name: 'hour', type: 'int', min: 0, max: 23 });
const category = feature({ name: 'merchantCategory', type: 'category', maxLength: 64 });
const text = feature({ name: 'text', type: 'text', maxLength: 100_000 });

describe('the generated prediction form', () => {
  it('uses number inputs for float/int, a text input for category and a textarea for text', () => {
    expect([amount, hour, category, text].map(inputKind)).toEqual(['number', 'number', 'text', 'textarea']);
    expect(inputAttributes(hour)).toMatchObject({ min: 0, max: 23, step: 1 });
    expect(inputAttributes(amount)).toMatchObject({ min: 0, max: 1_000_000, step: 'any' });
    expect(inputAttributes(category)).toEqual({ maxlength: 64 });
    expect(featureLabel('timeSinceLast')).toBe('Time since last');
  });

  it('checks values against the published ranges, exclusive minimums included', () => {
    expect(parseField(amount, '0')).toEqual({ ok: false, error: 'Must be greater than 0' });
    expect(parseField(amount, '12.5')).toEqual({ ok: true, value: 12.5 });
    expect(parseField(amount, '2000000')).toEqual({ ok: false, error: 'Must be at most 1000000' });
    expect(parseField(hour, '0')).toEqual({ ok: true, value: 0 });
    expect(parseField(hour, '-1')).toEqual({ ok: false, error: 'Must be at least 0' });
    expect(parseField(hour, '3.5')).toEqual({ ok: false, error: 'Must be a whole number' });
    expect(parseField(hour, 'abc')).toEqual({ ok: false, error: 'Must be a number' });
    expect(parseField(hour, ' ')).toEqual({ ok: false, error: 'Required' });
    expect(parseField(category, '  grocery ')).toEqual({ ok: true, value: 'grocery' });
    expect(parseField(category, 'x'.repeat(65))).toEqual({ ok: false, error: 'At most 64 characters' });
  });

  it('reports every field at once, and builds the @oneOf input keyed by task', () => {
    expect(parseForm([amount, hour, category], { amount: 0, hour: null, merchantCategory: 'travel' })).toEqual({
      ok: false,
      errors: { amount: 'Must be greater than 0', hour: 'Required' },
    });
    const parsed = parseForm([amount, hour, category], { amount: 10, hour: '4', merchantCategory: 'travel' });
    expect(parsed).toEqual({ ok: true, input: { amount: 10, hour: 4, merchantCategory: 'travel' } });
    expect(predictInput('fraud', { amount: 10 })).toEqual({ fraud: { amount: 10 } });
  });
});
