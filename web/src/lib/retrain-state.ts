// The task's automatic retrain triggers in plain words, and how close each one is, from its policy
// and the live version's figures (server/src/retraining: count, accuracy with its Wilson bound, cooldown).
import type { Interval, RetrainPolicy } from './graphql/types.js';
import { formatTime } from './format.js';

export interface TriggerState {
  name: string;
  text: string;
  /** The condition holds (a retrain is due once any cooldown has passed). */
  due: boolean;
}

const fmt = (x: number) => x.toFixed(2);

export function retrainTriggers(input: {
  policy: RetrainPolicy;
  /** Feedback on the live version's predictions so far. */
  liveFeedback: number;
  /** The live version over the last `policy.window` feedback. */
  windowed: { accuracy: number | null; feedbackCount: number; accuracyInterval?: Interval | null } | null;
  lastRetrainFinishedAt: string | null;
  now: number;
}): TriggerState[] {
  const { policy, liveFeedback, windowed, lastRetrainFinishedAt, now } = input;
  const more = Math.max(0, policy.afterFeedback - liveFeedback);
  const count: TriggerState = {
    name: 'New feedback',
    due: more === 0,
    text:
      more === 0
        ? `${liveFeedback} feedback on the live version, threshold ${policy.afterFeedback}: due`
        : `${more} more feedback (${liveFeedback} of ${policy.afterFeedback} on the live version's predictions)`,
  };

  let accuracyText: string;
  let accuracyDue = false;
  const n = windowed?.feedbackCount ?? 0;
  if (!windowed || windowed.accuracy == null || n < policy.minSamples) {
    accuracyText = `waits for ${policy.minSamples} feedback on the live version (${n} so far), then retrains when accuracy over the last ${policy.window} is below ${fmt(policy.minAccuracy)}`;
  } else {
    const upper = windowed.accuracyInterval?.upper ?? null;
    const below = windowed.accuracy < policy.minAccuracy;
    accuracyDue = below && upper !== null && upper < policy.minAccuracy;
    const bound = upper !== null ? `, upper bound ${fmt(upper)}` : '';
    accuracyText = below
      ? `window accuracy ${fmt(windowed.accuracy)} vs ${fmt(policy.minAccuracy)} needed${bound}${accuracyDue ? ': due' : ': not sure yet (the upper bound must be below too)'}`
      : `window accuracy ${fmt(windowed.accuracy)} over ${n} feedback, at or above ${fmt(policy.minAccuracy)}${bound}`;
  }
  const triggers: TriggerState[] = [count, { name: 'Low accuracy', text: accuracyText, due: accuracyDue }];

  const until = lastRetrainFinishedAt ? Date.parse(lastRetrainFinishedAt) + policy.cooldownSeconds * 1000 : null;
  triggers.push(
    until !== null && until > now
      ? { name: 'Cooldown', due: false, text: `automatic triggers wait until ${formatTime(until)} (${policy.cooldownSeconds} s after the last retrain)` }
      : { name: 'Cooldown', due: false, text: `none now (automatic triggers wait ${policy.cooldownSeconds} s after each retrain)` },
  );
  return triggers;
}
