import type { DomainEvents } from '../events/domain-events.js';
import type { EventBus } from '../events/event-bus.js';
import type { FeedbackRepository } from '../feedback/feedback.repository.js';
import { cursorOf, NO_RETRACTIONS_SEEN, parseSnapshot, seenBy, visibleIn, type FeedbackCursor, type Snapshot } from '../feedback/learning-cursor.js';
import type { Logger } from '../logger.js';
import { NaiveBayesModel } from '../ml/naive-bayes.js';
import { AppError } from '../shared/app-error.js';
import { PromiseCache } from '../shared/promise-cache.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import type { Task, TaskInput } from '../tasks/task.js';
import type { IModelActivation, IModelVersion, PromotionEvaluation } from './model-version.entity.js';
import type { ModelVersionRepository } from './model-version.repository.js';

/** The model a task serves right now, with the online updates applied since it was trained. */
export interface LiveModel {
  readonly task: Task;
  readonly versionId: number;
  readonly version: number;
  readonly model: NaiveBayesModel;
  /** The highest feedback id in the version's training data (for people). */
  readonly trainedThroughFeedbackId: number;
  /** Which feedback the version's training data covered: everything else is learned online. */
  readonly trainedCursor: FeedbackCursor;
  /** The dataset version it was trained on (null: none recorded). */
  readonly datasetVersionId: number | null;
}

/** Which feedback ids a dataset version holds (training/training-membership.ts). */
export type TrainingFeedbackIds = (datasetVersionId: number) => Promise<ReadonlySet<number>>;

/** A committed feedback row, as online learning identifies it. */
export interface CommittedFeedback {
  id: number;
  /** The transaction that wrote it (feedback.xid). */
  xid: bigint;
}

/**
 * What a live model has learned, exactly: every feedback visible in `seen`, plus the rows in
 * `beyond` (learned as they committed, or read after `seen` was taken). A row is learned when it
 * is in neither, and then put in `beyond`; a catch-up moves `seen` forward and drops from `beyond`
 * what the new snapshot covers. So each committed row is learned once, whatever order commits,
 * announcements and reads happen in.
 */
interface Learning {
  readonly live: LiveModel;
  seen: FeedbackCursor;
  seenSnapshot: Snapshot | null;
  readonly beyond: Map<number, bigint>;
  /**
   * Retractions, the same way (unlearning): every retraction visible in `retractionsSeen` and those
   * in `unlearned` (id → retracting xid) are applied. Starts at the training snapshot, whose
   * dataset already left out what was retracted before it.
   */
  retractionsSeen: string;
  readonly unlearned: Map<number, bigint>;
  /** The catch-up in flight, and whether another was asked for meanwhile (they coalesce). */
  running: Promise<number> | null;
  again: boolean;
}

/** Feedback rows read per page by a replay or catch-up: bounds its memory, not its reach. */
const REPLAY_PAGE_ROWS = 5000;

/** Rows learned past the last snapshot after which a catch-up is started to move it forward. */
const BEYOND_CATCH_UP_ROWS = 500;

export interface NewModelVersion {
  artifact: unknown;
  trainingMetrics: IModelVersion['trainingMetrics'];
  datasetVersionId?: number | null;
  trainedThroughFeedbackId: number;
  /** The snapshot the training data's feedback was read through (see learning-cursor.ts). */
  trainedFeedbackSnapshot?: string | null;
  retrainJobId?: string | null;
  evaluation?: PromotionEvaluation | null;
  registry?: { runId: string; runUrl: string | null; version: string; versionUrl: string | null };
  /** Bootstrap: keep this only if the task has no version yet. */
  firstVersionOnly?: boolean;
}

/** How long a cached version row may be served (its status changes on activation). */
const VERSION_CACHE_MS = 1000;

export class ModelService {
  private readonly learning = new Map<string, Learning>();
  /** Loads of one model run one after another, so the last activation is the one served. */
  private readonly loads = new Map<string, Promise<unknown>>();
  private readonly versionCache = new PromiseCache<number, IModelVersion | null>(VERSION_CACHE_MS);
  /** Without it, every retracted row the training snapshot covers counts as trained on. */
  private trainingFeedbackIds: TrainingFeedbackIds | null = null;

  /** How retractions learn which rows a version's dataset really holds (it may have dropped duplicates, outliers, old rows). */
  useTrainingFeedbackIds(lookup: TrainingFeedbackIds): void {
    this.trainingFeedbackIds = lookup;
  }

  constructor(
    private readonly versionRows: ModelVersionRepository,
    /** Online learning reads the feedback a live model has not learned through it. */
    private readonly feedbackRows: Pick<FeedbackRepository, 'unseen' | 'unseenRetractions'>,
    private readonly tasks: TaskRegistry,
    private readonly events: EventBus,
    private readonly logger: Logger,
    /** Off: live models change only through retrains (frozen between them). */
    private readonly onlineLearning = true,
    /** Told of activations (the audit log follows them). */
    private readonly domainEvents?: Pick<DomainEvents, 'emit'>,
  ) {}

  private learnsOnline(task: Task): boolean {
    return this.onlineLearning && task.definition.onlineLearning;
  }

  /**
   * Trains version 1 of every task that has none (through `bootstrap`), then loads each live
   * model. Runs in the background; the readiness probe asks `getLive` for each task.
   */
  start(bootstrap: (task: Task) => Promise<unknown>): Promise<void> {
    const all = this.tasks.all().map((task) => {
      const p = this.hasVersions(task.name)
        .then((has) => (has ? undefined : bootstrap(task)))
        .then(async () => {
          await this.load(task.name);
        })
        .catch((error: unknown) => {
          this.logger.error({ err: error, model: task.name }, 'could not bring the model up');
          throw error;
        });
      return p;
    });
    return Promise.all(all).then(() => undefined);
  }

  getLive(model: string): LiveModel | undefined {
    return this.learning.get(model)?.live;
  }

  /** Online learning: applies one feedback this process just committed to the live model (once). */
  learn(model: string, row: CommittedFeedback, input: TaskInput, label: string): void {
    const state = this.learning.get(model);
    if (!state || !this.learnsOnline(state.live.task)) return;
    if (state.beyond.has(row.id) || seenBy(state.seen, row, state.seenSnapshot ?? undefined)) return;
    state.live.model.learn(state.live.task.encode(input), label);
    state.beyond.set(row.id, row.xid);
    // A catch-up moves `seen` past these rows and forgets them: keeps `beyond` small in a process
    // that hears of no other process's commits.
    if (state.beyond.size >= BEYOND_CATCH_UP_ROWS && !state.running) {
      this.catchUp(model).catch((error: unknown) => this.logger.warn({ err: error, model }, 'online learning catch-up failed'));
    }
  }

  /**
   * Learns every committed feedback of `model` the live model has not learned, whoever committed
   * it and whatever announcements were missed (another process's commit, a lost NOTIFY, a
   * reconnect). Calls while one runs coalesce into one more run. Returns how many rows it learned.
   */
  catchUp(model: string): Promise<number> {
    const state = this.learning.get(model);
    // Retractions apply even when online learning is off: they take rows out of the training data too.
    if (!state) return Promise.resolve(0);
    if (state.running) {
      state.again = true;
      return state.running;
    }
    const run = (async () => {
      let learned = 0;
      do {
        state.again = false;
        if (this.learnsOnline(state.live.task)) learned += await this.readAndLearn(state);
        await this.readAndUnlearn(state);
      } while (state.again && this.learning.get(model) === state);
      return learned;
    })();
    state.running = run;
    const clear = () => {
      if (state.running === run) state.running = null;
    };
    run.then(clear, clear);
    return run;
  }

  /**
   * Brings this process back in line with the database after events may have been missed:
   * each model serves the version that is LIVE in the database, with every committed feedback learned.
   */
  async resync(): Promise<void> {
    for (const task of this.tasks.all()) {
      const live = this.getLive(task.name);
      if (!live) continue;
      const row = await this.versionRows.live(task.name);
      if (row && row.version !== live.version) await this.load(task.name);
      else await this.catchUp(task.name);
    }
  }

  /** One pass of a catch-up or replay: pages through the rows `state` has not seen, in id order. */
  private async readAndLearn(state: Learning): Promise<number> {
    const { live } = state;
    let learned = 0;
    let first: string | null = null;
    for (let afterId = 0; ;) {
      const page = await this.feedbackRows.unseen(live.task.name, state.seen, { afterId, limit: REPLAY_PAGE_ROWS, exceptIds: [...state.beyond.keys()] });
      first ??= page.snapshot;
      for (const r of page.rows) {
        if (state.beyond.has(r.id)) continue;
        live.model.learn(live.task.encode(r.input), r.label);
        state.beyond.set(r.id, r.xid);
        learned++;
      }
      if (page.rows.length < REPLAY_PAGE_ROWS) break;
      afterId = page.rows.at(-1)!.id;
    }
    // Every unseen row visible in the first page's snapshot was in some page (later pages see
    // more, never less), so that snapshot now covers them; rows past it stay in `beyond`.
    const snapshot = parseSnapshot(first!);
    state.seen = { kind: 'snapshot', snapshot: first! };
    state.seenSnapshot = snapshot;
    for (const [id, xid] of state.beyond) if (visibleIn(snapshot, xid)) state.beyond.delete(id);
    return learned;
  }

  /**
   * Applies the retractions `state` has not: a retracted row the model learned (online, or in its
   * training data) is unlearned; one it has not learned yet never will be (it goes in `beyond`).
   * The retraction stream reads after the learning stream, so every row whose retraction it sees
   * was committed before it, and is either learned by now or known not to be.
   */
  /** Whether feedback `id`, covered by the version's training snapshot, is in its dataset. */
  private async trainedOn(live: LiveModel, id: number): Promise<boolean> {
    if (!this.trainingFeedbackIds || live.datasetVersionId === null) return true;
    return (await this.trainingFeedbackIds(live.datasetVersionId)).has(id);
  }

  private async readAndUnlearn(state: Learning): Promise<number> {
    const { live } = state;
    const trained = live.trainedCursor.kind === 'snapshot' ? parseSnapshot(live.trainedCursor.snapshot) : undefined;
    let unlearned = 0;
    let first: string | null = null;
    for (let afterId = 0; ;) {
      const page = await this.feedbackRows.unseenRetractions(live.task.name, state.retractionsSeen, {
        afterId,
        limit: REPLAY_PAGE_ROWS,
        exceptIds: [...state.unlearned.keys()],
      });
      first ??= page.snapshot;
      for (const r of page.rows) {
        if (state.unlearned.has(r.id)) continue;
        const row = { id: r.id, xid: r.xid };
        const covered = !state.beyond.has(r.id) && seenBy(live.trainedCursor, row, trained);
        const inTraining = covered && (await this.trainedOn(live, r.id));
        const learnedOnline = state.beyond.has(r.id) || (!covered && seenBy(state.seen, row, state.seenSnapshot ?? undefined));
        if (inTraining || learnedOnline) {
          live.model.unlearn(live.task.encode(r.input), r.label);
          unlearned++;
        } else if (!covered) {
          state.beyond.set(r.id, r.xid); // retracted before this model learned it: it never will
        } // else: covered by the training snapshot, but the dataset had dropped it: nothing to take back
        state.unlearned.set(r.id, r.retractedXid);
      }
      if (page.rows.length < REPLAY_PAGE_ROWS) break;
      afterId = page.rows.at(-1)!.id;
    }
    const snapshot = parseSnapshot(first!);
    state.retractionsSeen = first!;
    for (const [id, xid] of state.unlearned) if (visibleIn(snapshot, xid)) state.unlearned.delete(id);
    if (unlearned > 0) this.logger.info({ model: live.task.name, version: live.version, unlearned }, 'unlearned retracted feedback');
    return unlearned;
  }

  async versions(model: string): Promise<IModelVersion[]> {
    return this.versionRows.list(model);
  }

  async version(model: string, version: number): Promise<IModelVersion | null> {
    return this.versionRows.get(model, version);
  }

  /**
   * A version by internal id, cached for a moment: every prediction resolves its version, and a
   * database round trip per request would double the cost of predict.
   */
  async versionById(id: number): Promise<IModelVersion | null> {
    return this.versionCache.get(id, () => this.versionRows.byId(id));
  }

  /**
   * Stores a newly trained model as the task's next version, not yet live. A retrain job gets
   * one version however often it is retried; a first version trained by two processes at once
   * is kept once (the later one returns the earlier's).
   */
  async registerVersion(model: string, trained: NewModelVersion): Promise<IModelVersion> {
    return this.versionRows.insertNext(
      model,
      {
        artifact: trained.artifact,
        trainingMetrics: trained.trainingMetrics,
        datasetVersion: trained.datasetVersionId ?? null,
        trainedThroughFeedbackId: trained.trainedThroughFeedbackId,
        trainedFeedbackSnapshot: trained.trainedFeedbackSnapshot ?? null,
        retrainJobId: trained.retrainJobId ?? null,
        evaluation: trained.evaluation ?? null,
        registryRunId: trained.registry?.runId ?? null,
        registryRunUrl: trained.registry?.runUrl ?? null,
        registryVersion: trained.registry?.version ?? null,
        registryVersionUrl: trained.registry?.versionUrl ?? null,
      },
      { firstVersionOnly: trained.firstVersionOnly ?? false },
    );
  }

  /** Which version was live when, and who or what made it so, newest first. */
  async activations(model: string): Promise<IModelActivation[]> {
    return this.versionRows.activations(model);
  }

  async lastActivation(model: string, version: number): Promise<IModelActivation | null> {
    return this.versionRows.lastActivation(model, version);
  }

  /** Makes `version` the live one (promotion or rollback) and records who did it and why. */
  async activate(model: string, version: number, actor: string, reason: string): Promise<IModelVersion> {
    const previousVersion = this.getLive(model)?.version ?? null;
    const activated = await this.versionRows.activate(model, version, actor, reason);
    if (!activated) throw new AppError('NOT_FOUND', `model ${model} has no version ${version}`);
    this.logger.info({ model, version, actor, reason }, 'model version activated');
    this.domainEvents?.emit('modelVersionActivated', { model, version, previousVersion, actor, reason });
    await this.load(model);
    return activated;
  }

  /**
   * Loads the LIVE version's artifact and replays the feedback it has not seen, then swaps it in.
   * Feedback committed during the replay went to the previous model: a catch-up after the swap
   * teaches it to the new one.
   */
  load(model: string): Promise<LiveModel> {
    const previous = this.loads.get(model) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() => this.loadNow(model));
    this.loads.set(model, next);
    const clear = () => {
      if (this.loads.get(model) === next) this.loads.delete(model);
    };
    next.then(clear, clear);
    return next;
  }

  private async loadNow(model: string): Promise<LiveModel> {
    const task = this.tasks.get(model);
    if (!task) throw new AppError('NOT_FOUND', `unknown model ${model}`);
    const row = await this.versionRows.live(model, { artifact: true });
    if (!row) throw new Error(`model ${model} has no LIVE version`);
    const trainedCursor = cursorOf({ snapshot: row.trainedFeedbackSnapshot, throughId: row.trainedThroughFeedbackId });
    const trained = NaiveBayesModel.fromJSON(row.artifact);
    const live: LiveModel = {
      // Fed the way this version was trained, even if the task's tokenizer has changed since.
      task: task.forModel(trained.spec),
      versionId: row.id,
      version: row.version,
      model: trained,
      trainedThroughFeedbackId: row.trainedThroughFeedbackId,
      trainedCursor,
      datasetVersionId: row.datasetVersion?.id ?? null,
    };
    const state: Learning = {
      live,
      seen: trainedCursor,
      seenSnapshot: null,
      beyond: new Map(),
      retractionsSeen: trainedCursor.kind === 'snapshot' ? trainedCursor.snapshot : NO_RETRACTIONS_SEEN,
      unlearned: new Map(),
      running: null,
      again: false,
    };
    if (trainedCursor.kind === 'snapshot') state.seenSnapshot = parseSnapshot(trainedCursor.snapshot);
    if (this.learnsOnline(task)) {
      const replayed = await this.readAndLearn(state);
      if (replayed > 0) this.logger.info({ model, version: row.version, replayed }, 'replayed feedback into the live model');
    }
    await this.readAndUnlearn(state);
    this.learning.set(model, state);
    this.versionCache.clear();
    await this.catchUp(model);
    this.events.publish('modelActivated', { model, version: row.version });
    return live;
  }

  private async hasVersions(model: string): Promise<boolean> {
    return this.versionRows.exists(model);
  }
}
