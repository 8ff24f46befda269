import { reportFromConfusion } from '../metrics/classification-report.js';
import { qualityWarnings } from '../tasks/task-quality.js';
import type { ModelService } from './model-service.js';
import type { TaskRegistry } from '../tasks/task-registry.js';

/** Banner lines for every experimental task and every live version that trained below its task's threshold. */
export async function modelQualityWarnings(services: { tasks: TaskRegistry; models: ModelService }): Promise<string[]> {
  const lines: string[] = [];
  for (const task of services.tasks.all()) {
    const live = services.models.getLive(task.name);
    const version = live ? await services.models.versionById(live.versionId) : null;
    const holdoutAccuracy = version?.trainingMetrics ? reportFromConfusion(version.trainingMetrics.confusion, null).accuracy : null;
    lines.push(...qualityWarnings(task, live ? { version: live.version, holdoutAccuracy } : null));
  }
  return lines;
}
