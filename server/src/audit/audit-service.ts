import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../logger.js';
import type { AuditRepository } from './audit.repository.js';
import type { AuditEntryRecord, AuditFilter, NewAuditEntry } from './audit.types.js';

/**
 * The audit log: every state change of Relearn, appended once by the process that made it, and
 * announced (ids only) to `auditEntryAdded` subscribers in every process.
 */
export class AuditService {
  /** Entries being written: shutdown waits for them (drain). */
  private readonly writing = new Set<Promise<unknown>>();

  constructor(
    private readonly repository: AuditRepository,
    private readonly events: EventBus,
    private readonly logger: Logger,
  ) {}

  /** Appends an entry and announces it once it is committed. */
  async record(entry: NewAuditEntry): Promise<AuditEntryRecord> {
    const stored = await this.repository.append(entry);
    this.events.publish('auditEntryAdded', { id: stored.id, model: stored.model, kind: stored.kind });
    return stored;
  }

  /**
   * Appends without making the caller wait (domain-event followers are synchronous). A write that
   * fails is logged with the whole entry, so what it said is not lost from the logs either.
   */
  append(entry: NewAuditEntry): void {
    const write = this.record(entry).catch((error: unknown) => this.logger.error({ err: error, audit: entry }, 'could not write an audit entry'));
    this.writing.add(write);
    void write.finally(() => this.writing.delete(write));
  }

  list(filter: AuditFilter): Promise<AuditEntryRecord[]> {
    return this.repository.list(filter);
  }

  get(id: string): Promise<AuditEntryRecord | null> {
    return this.repository.get(id);
  }

  /** Waits for the entries still being written. */
  async drain(): Promise<void> {
    while (this.writing.size > 0) await Promise.all([...this.writing]);
  }
}
