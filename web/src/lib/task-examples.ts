// What the forms suggest for each built-in task: an example input (shown as placeholders) and a
// retrain reason. A task without an entry gets placeholders from its own ranges and labels.
import type { Feature, ModelInfo } from './graphql/types.js';

interface TaskExamples {
  inputs: Record<string, string>;
  retrainReason: string;
}

const EXAMPLES: Record<string, TaskExamples> = {
  fraud: {
    inputs: { amount: '1900', hour: '3', dayOfWeek: '2', merchantCategory: 'electronics', previousAmount: '35', timeSinceLast: '0.2' },
    retrainReason: 'e.g. new fraud pattern at online merchants',
  },
  spam: {
    inputs: { text: 'e.g. Subject: FREE money!!! Click here to claim your prize before midnight' },
    retrainReason: 'e.g. new spam campaign getting through',
  },
};

export function examplePlaceholder(model: Pick<ModelInfo, 'name'>, feature: Feature): string {
  const given = EXAMPLES[model.name]?.inputs[feature.name];
  if (given) return given.startsWith('e.g.') ? given : `e.g. ${given}`;
  if (feature.categories?.length) return `e.g. ${feature.categories[0]}`;
  if (feature.min != null && feature.max != null) return `${feature.min} to ${feature.max}`;
  return '';
}

export function retrainReasonPlaceholder(model: Pick<ModelInfo, 'name' | 'positiveLabel'>): string {
  return EXAMPLES[model.name]?.retrainReason ?? `e.g. new ${model.positiveLabel} examples the live version misses`;
}
