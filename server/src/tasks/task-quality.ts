import type { Task } from './task.js';

/**
 * Whether a version trained below its task's own live-accuracy threshold (`retrain.minAccuracy`),
 * judged on its training holdout: such a version is served (it is the best there is) but flagged
 * in the API (`ModelVersion.belowThreshold`), the start-up banner and the dashboard.
 */
export function trainedBelowThreshold(task: Task, holdoutAccuracy: number | null | undefined): boolean | null {
  if (holdoutAccuracy === null || holdoutAccuracy === undefined) return null;
  return holdoutAccuracy < task.definition.retrain.minAccuracy;
}

/** Lines for the start-up banner about a task that is experimental or whose live version trained below its threshold. */
export function qualityWarnings(task: Task, live: { version: number; holdoutAccuracy: number | null } | null): string[] {
  const lines: string[] = [];
  if (task.definition.experimental) lines.push(`  EXPERIMENTAL        ${task.name}: ${task.definition.experimental}`);
  if (live && trainedBelowThreshold(task, live.holdoutAccuracy)) {
    lines.push(
      `  BELOW THRESHOLD     ${task.name} v${live.version}: holdout accuracy ${live.holdoutAccuracy!.toFixed(3)} < its threshold ${task.definition.retrain.minAccuracy}`,
    );
  }
  return lines;
}
