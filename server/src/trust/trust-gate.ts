import type { Config } from '../config.js';
import type { FeedbackRepository } from '../feedback/feedback.repository.js';
import type { Teacher } from '../feedback/feedback.types.js';
import { wilsonInterval } from '../ml/metrics.js';
import type { TaskDefinition } from '../tasks/task-definition.js';

/** A task's gate rules (task definition `trust`, with defaults). */
export type TrustRules = TaskDefinition['trust'];

/** What the gate knows of a source: configured trust, or the evidence it earned trust with. */
export interface SourceTrust {
  source: string;
  /** Passes the gate at once (configured, the admin, or earned). */
  trusted: boolean;
  /** Trusted by configuration (TRUSTED_SOURCES) or as the admin, rather than earned. */
  configured: boolean;
  /** Inputs it labelled like a configured-trusted source did, and unlike. */
  agree: number;
  disagree: number;
  /** Lower end of the 95% Wilson interval of agree / (agree + disagree); null without evidence. */
  agreementLow: number | null;
}

/** One label as the gate sees it. */
export interface GateCase {
  model: string;
  rules: TrustRules;
  teacher: Teacher;
  /** The label says the model was wrong (actual ≠ predicted). */
  against: boolean;
  /** The probability the model gave its prediction when it served it; null for outcomes (no prediction here). */
  servedProbability: number | null;
}

export interface GateVerdict {
  quarantined: boolean;
  reason: string | null;
}

/** One source's recent labels against the model: the database's count at `at`, plus this process's since (time, order). */
interface BurstState {
  baseline: number;
  at: number;
  local: { t: number; seq: number }[];
  seq: number;
  reading: Promise<void> | null;
}

const PASS: GateVerdict = Object.freeze({ quarantined: false, reason: null });
/** How long a source's earned trust is reused before it is read again. */
const TRUST_CACHE_MS = 10_000;
/** How long the database's count of a source's recent labels against the model is reused (this process's own are added meanwhile). */
const BURST_BASELINE_MS = 2_000;

/**
 * The gate every feedback and outcome passes before it may teach the live model, count toward a
 * retrain trigger or enter the headline metrics. Trusted sources (configured, the admin, earned)
 * pass at once; so does any label that agrees with the model (it cannot move the model's answer).
 * A label against the model from a source without trust is quarantined when
 *  1. it contradicts a confident prediction (served with probability ≥ `confidentProbability`), or
 *  2. its source has given more than `burstLimit` labels against the model within
 *     `burstWindowSeconds` (a burst; outcomes included, which carry no probability).
 *
 * Earned trust: a source earns it by agreeing with configured-trusted sources on the same inputs
 * (the sha-256 of the prediction's canonical input): with `agree` and `disagree` counted over
 * distinct inputs, it is trusted when agree + disagree ≥ TRUST_MIN_EVIDENCE and the lower end of
 * the 95% Wilson interval of agree / (agree + disagree) ≥ TRUST_MIN_AGREEMENT. Agreeing with the
 * model earns nothing: anyone can ask the model first and echo it. Repeating an input counts
 * once; earned trust is never a reference for others (no chains of trust); one disagreement
 * costs more than one agreement earns.
 */
export class TrustGate {
  private readonly trustCache = new Map<string, { at: number; trust: Promise<SourceTrust> }>();
  private readonly bursts = new Map<string, BurstState>();
  private readonly configured: ReadonlySet<string>;

  constructor(
    private readonly repository: Pick<FeedbackRepository, 'recentAgainst' | 'agreementWithTrusted'>,
    private readonly config: Config['trust'],
    private readonly now: () => number = Date.now,
  ) {
    this.configured = new Set(config.trustedSources);
  }

  /** Trusted by configuration (or as the admin): such sources are also the reference others are compared with. */
  isConfiguredTrusted(teacher: Teacher): boolean {
    return teacher.trusted || this.configured.has(teacher.source);
  }

  /** What the gate knows of `source` for `model` (read at most every 10 s per source). */
  trust(model: string, teacher: Teacher): Promise<SourceTrust> {
    if (this.isConfiguredTrusted(teacher)) {
      return Promise.resolve({ source: teacher.source, trusted: true, configured: true, agree: 0, disagree: 0, agreementLow: null });
    }
    const key = `${model}\u0000${teacher.source}`;
    const cached = this.trustCache.get(key);
    if (cached && this.now() - cached.at < TRUST_CACHE_MS) return cached.trust;
    const trust = this.repository.agreementWithTrusted(model, teacher.source, [...this.configured]).then(({ agree, disagree }) => {
      const n = agree + disagree;
      const agreementLow = n > 0 ? wilsonInterval(agree, n)!.low : null;
      const trusted = n >= this.config.minEvidence && agreementLow !== null && agreementLow >= this.config.minAgreement;
      return { source: teacher.source, trusted, configured: false, agree, disagree, agreementLow };
    });
    this.trustCache.set(key, { at: this.now(), trust });
    trust.catch(() => this.trustCache.delete(key));
    return trust;
  }

  /** Decides one label. Labels against the model are counted (synchronously) before anything is awaited, so a burst sent at once is seen at once. */
  async judge(c: GateCase): Promise<GateVerdict> {
    if (!c.against || this.isConfiguredTrusted(c.teacher)) return PASS;
    const count = this.countAgainst(c);
    const [trust] = await Promise.all([this.trust(c.model, c.teacher), count.ready]);
    if (trust.trusted) return PASS;
    const standing =
      trust.agree + trust.disagree === 0
        ? `source "${c.teacher.source}" has not earned trust`
        : `source "${c.teacher.source}" has not earned trust (agreed with trusted labels on ${trust.agree} of ${trust.agree + trust.disagree} inputs)`;
    if (c.servedProbability !== null && c.servedProbability >= c.rules.confidentProbability) {
      return {
        quarantined: true,
        reason: `contradicts a confident prediction (p = ${c.servedProbability.toFixed(3)} ≥ ${c.rules.confidentProbability}); ${standing}`,
      };
    }
    const against = count.value();
    if (against > c.rules.burstLimit) {
      return {
        quarantined: true,
        reason: `burst: ${against} labels against the model from "${c.teacher.source}" within ${c.rules.burstWindowSeconds} s (limit ${c.rules.burstLimit}); ${standing}`,
      };
    }
    return PASS;
  }

  /**
   * This label and the source's other labels against the model in the window: the database's
   * count (every process's committed rows, read at most every 2 s) plus the labels this process
   * judged since that read.
   */
  private countAgainst(c: GateCase): { ready: Promise<void>; value: () => number } {
    const key = `${c.model}\u0000${c.teacher.source}`;
    const windowMs = c.rules.burstWindowSeconds * 1000;
    const now = this.now();
    let state = this.bursts.get(key);
    if (!state) {
      state = { baseline: 0, at: -Infinity, local: [], seq: 0, reading: null };
      this.bursts.set(key, state);
    }
    const s = state;
    const mine = ++s.seq;
    s.local.push({ t: now, seq: mine });
    while (s.local.length > 0 && s.local[0]!.t <= now - windowMs) s.local.shift();
    if (now - s.at >= BURST_BASELINE_MS && !s.reading) {
      const readAt = now;
      s.reading = this.repository
        .recentAgainst(c.model, c.teacher.source, c.rules.burstWindowSeconds)
        .then((n) => {
          // Labels judged since the read began may not be committed yet: they stay counted locally.
          s.baseline = n;
          s.at = readAt;
          s.local = s.local.filter((l) => l.t >= readAt);
        })
        .finally(() => (s.reading = null));
    }
    const ready = s.reading ?? Promise.resolve();
    // This label's place in the count: labels judged after it (in the same burst) do not count against it.
    return { ready: ready.catch(() => {}), value: () => s.baseline + s.local.filter((l) => l.seq <= mine).length };
  }
}
