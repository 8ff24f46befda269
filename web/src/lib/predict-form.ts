// The prediction form is generated from a task's features: these pure helpers decide each input's
// kind and attributes and turn what was typed into the task's input, checked against the ranges
// the server publishes (the server checks again and its errors are shown the same way).
import type { Feature } from './graphql/types.js';

export type InputKind = 'number' | 'text' | 'textarea';

export function inputKind(feature: Pick<Feature, 'type'>): InputKind {
  if (feature.type === 'float' || feature.type === 'int') return 'number';
  if (feature.type === 'text') return 'textarea';
  return 'text';
}

/** HTML attributes for the feature's input element. */
export function inputAttributes(feature: Feature): Record<string, string | number> {
  const attrs: Record<string, string | number> = {};
  if (inputKind(feature) === 'number') {
    attrs.inputmode = feature.type === 'int' ? 'numeric' : 'decimal';
    attrs.step = feature.type === 'int' ? 1 : 'any';
    if (feature.min != null) attrs.min = feature.min;
    if (feature.max != null) attrs.max = feature.max;
  } else if (feature.maxLength != null) {
    attrs.maxlength = feature.maxLength;
  }
  return attrs;
}

/** A human label from a feature name: `merchantCategory` -> `Merchant category`. */
export function featureLabel(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export type ParsedField = { ok: true; value: number | string } | { ok: false; error: string };

export function parseField(feature: Feature, raw: string): ParsedField {
  if (inputKind(feature) !== 'number') {
    if (feature.type === 'category' ? raw.trim() === '' : raw === '') return { ok: false, error: 'Required' };
    const value = feature.type === 'category' ? raw.trim() : raw;
    if (feature.maxLength != null && value.length > feature.maxLength) {
      return { ok: false, error: `At most ${feature.maxLength} characters` };
    }
    return { ok: true, value };
  }
  const text = raw.trim();
  if (text === '') return { ok: false, error: 'Required' };
  const value = Number(text);
  if (!Number.isFinite(value)) return { ok: false, error: 'Must be a number' };
  if (feature.type === 'int' && !Number.isInteger(value)) return { ok: false, error: 'Must be a whole number' };
  if (feature.min != null) {
    if (feature.exclusiveMin && !(value > feature.min)) return { ok: false, error: `Must be greater than ${feature.min}` };
    if (!feature.exclusiveMin && value < feature.min) return { ok: false, error: `Must be at least ${feature.min}` };
  }
  if (feature.max != null && value > feature.max) return { ok: false, error: `Must be at most ${feature.max}` };
  return { ok: true, value };
}

export type ParsedForm = { ok: true; input: Record<string, number | string> } | { ok: false; errors: Record<string, string> };

/** Every field parsed; all problems at once so each shows next to its input. */
export function parseForm(features: readonly Feature[], raw: Record<string, unknown>): ParsedForm {
  const input: Record<string, number | string> = {};
  const errors: Record<string, string> = {};
  for (const feature of features) {
    // Number inputs bound with bind:value give numbers (or null when empty or invalid).
    const value = raw[feature.name];
    const parsed = parseField(feature, value == null ? '' : String(value));
    if (parsed.ok) input[feature.name] = parsed.value;
    else errors[feature.name] = parsed.error;
  }
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, input };
}

/** `PredictInput` is a @oneOf keyed by task name. */
export function predictInput(model: string, input: Record<string, number | string>): Record<string, unknown> {
  return { [model]: input };
}

export { formatPercent } from './format.js';
