import type { DomainEventMap, DomainEvents } from '../events/domain-events.js';
import type { NewAuditEntry } from './audit.types.js';

/**
 * Which domain events become audit entries, and how. Each event is published once, by the
 * process that made the change, after it committed: so each change is audited once.
 *
 * To audit a new kind of change:
 *   1. add its event to DomainEventMap (events/domain-events.ts), with the actor in its payload;
 *   2. emit it where the change is committed (the service that owns it);
 *   3. add one `follow('<event>', (e) => ({ kind, actor, model, details }))` line below.
 * Kinds are dotted, domain first (`quarantine.released`, `feedback.retracted`); `details` holds
 * what a reader needs (ids, counts, reasons), never a secret.
 */
export function auditDomainEvents(domainEvents: DomainEvents, audit: { append(entry: NewAuditEntry): void }): () => void {
  const follow = <K extends keyof DomainEventMap>(event: K, toEntry: (payload: DomainEventMap[K]) => NewAuditEntry | null) =>
    domainEvents.on(event, (payload) => {
      const entry = toEntry(payload);
      if (entry) audit.append(entry);
    });
  const stops = [
    follow('apiKeyCreated', (e) => ({
      kind: 'api-key.created',
      actor: e.actor,
      model: null,
      details: { keyId: e.keyId, principal: e.principal, scopes: [...e.scopes] },
    })),
    follow('apiKeyRevoked', (e) => ({ kind: 'api-key.revoked', actor: e.actor, model: null, details: { keyId: e.keyId, principal: e.principal } })),
    follow('modelVersionActivated', (e) => ({
      kind: e.previousVersion !== null && e.version < e.previousVersion ? 'model.rolled-back' : 'model.activated',
      actor: e.actor,
      model: e.model,
      details: { version: e.version, previousVersion: e.previousVersion, reason: e.reason },
    })),
    follow('retrainRequested', (e) => ({
      kind: 'retrain.requested',
      actor: e.actor,
      model: e.model,
      details: { jobId: e.jobId, trigger: e.kind, reason: e.reason, joined: e.joined },
    })),
    follow('retrainFinished', (e) => ({
      kind: `retrain.${e.outcome}`,
      actor: 'trainer',
      model: e.model,
      details: { jobId: e.jobId ?? null, version: e.version ?? null, message: e.message ?? null, seconds: Math.round(e.seconds * 1000) / 1000 },
    })),
    follow('quarantineReviewed', (e) => ({
      kind: `quarantine.${e.decision}`,
      actor: e.actor,
      model: e.model,
      details: { count: e.ids.length, ids: e.ids.slice(0, 1000) },
    })),
    follow('feedbackRetracted', (e) => ({
      kind: 'feedback.retracted',
      actor: e.actor,
      model: e.models.length === 1 ? e.models[0]! : null,
      details: { retractionId: e.retractionId, count: e.count, models: [...e.models], reason: e.reason },
    })),
    follow('predictionPartitionDropped', (e) => ({
      kind: 'predictions.partition-dropped',
      actor: 'relearn',
      model: null,
      details: { ...e, from: e.from.toISOString(), to: e.to.toISOString() },
    })),
    follow('predictionsPurged', (e) => ({ kind: 'predictions.purged', actor: 'relearn', model: null, details: { ...e, before: e.before.toISOString() } })),
  ];
  return () => stops.forEach((stop) => stop());
}
