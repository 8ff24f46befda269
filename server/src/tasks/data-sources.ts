import { dirname, resolve } from 'node:path';
import { generateInitialData } from './data/fraud-generator.js';
import { loadLabelledTextFile } from './data/labelled-text-file.js';
import { loadSpamAssassin } from './data/spam-assassin.js';
import type { LabelledRow } from './data/types.js';
import type { TaskDefinition } from './task-definition.js';
import type { TaskInput } from './task.js';

/** The rows a task's first model version is trained on, as its definition declares. */
export async function loadBootstrapRows(definition: TaskDefinition): Promise<LabelledRow<TaskInput>[]> {
  const dataset = definition.dataset;
  switch (dataset.source) {
    case 'synthetic-fraud':
      return generateInitialData(dataset.rows, {
        seed: dataset.seed,
        ...(dataset.fraudRate === undefined ? {} : { fraudRate: dataset.fraudRate }),
      }) as unknown as LabelledRow<TaskInput>[];
    case 'spam-assassin':
      return asTextTask(definition, await loadSpamAssassin(dataset.groups));
    case 'file': {
      const path = resolve(dirname(definition.file), dataset.path);
      const rows = await loadLabelledTextFile(path, {
        ...(dataset.textField ? { textField: dataset.textField } : {}),
        ...(dataset.labelField ? { labelField: dataset.labelField } : {}),
      });
      return asTextTask(definition, rows);
    }
  }
}

/** Text sources yield `{text}`; the task may call its text feature something else. */
function asTextTask(definition: TaskDefinition, rows: LabelledRow<{ text: string }>[]): LabelledRow<TaskInput>[] {
  const field = definition.features.find((f) => f.type === 'text')?.name;
  if (!field) throw new Error(`task ${definition.name} reads a text dataset but declares no text feature`);
  return rows.map((r) => ({ input: { [field]: r.input.text }, label: r.label, ...(r.source ? { source: r.source } : {}) }));
}
