import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { FittedModel } from './train.js';
import type { SnapshotMessage, TrainingCallbacks, TrainingRequest } from './train-in-worker.js';

type Fit = (request: TrainingRequest, callbacks: TrainingCallbacks) => Promise<FittedModel>;

interface CachedFit {
  dataset: SnapshotMessage;
  fitted: FittedModel;
}

/**
 * Memoises bootstrap fits in `dir` (BOOTSTRAP_FIT_CACHE_DIR), for test runs: every test app starts
 * on a fresh database and bootstraps each task again, the same fit of the same bundled data each
 * time (seconds of CPU per app, a fifth of the suite). A bootstrap fit is a pure function of its
 * request, so the key is the request itself; the directory must live no longer than the code that
 * filled it (the test harness makes one per `npm test`). Retrains are never cached. The callbacks
 * see exactly what a fit in the worker would have sent: the dataset, then the steps.
 */
export function withBootstrapFitCache(fit: Fit, dir: string): Fit {
  return async (request, callbacks) => {
    if (request.kind !== 'bootstrap') return fit(request, callbacks);
    const file = join(dir, `${createHash('sha256').update(JSON.stringify(request)).digest('hex')}.bin`);
    const cached = await readFile(file).then(
      (bytes) => deserialize(bytes) as CachedFit,
      () => null,
    );
    if (cached) {
      await callbacks.onSnapshot(cached.dataset);
      callbacks.onStep('TRAINING');
      callbacks.onStep('EVALUATING');
      return cached.fitted;
    }
    let dataset: SnapshotMessage | null = null;
    // A bootstrap's dataset travels as one piece; one that came in chunks is not memoised (the
    // cache holds the last piece only).
    let chunked = false;
    const fitted = await fit(request, {
      ...callbacks,
      ...(callbacks.onChunk
        ? {
            onChunk: (bytes: Uint8Array) => {
              chunked = true;
              return callbacks.onChunk!(bytes);
            },
          }
        : {}),
      onSnapshot: (d) => {
        // Copied before the callback may take the bytes over (they are moved between threads).
        dataset = { ...d, jsonl: d.jsonl.slice() };
        return callbacks.onSnapshot(d);
      },
      onStep: (s) => callbacks.onStep(s),
    });
    if (dataset && !chunked) {
      // Written whole under a private name, then renamed: concurrent test processes never read half a file.
      await mkdir(dir, { recursive: true });
      const partial = `${file}.${randomUUID()}.tmp`;
      await writeFile(partial, serialize({ dataset, fitted } satisfies CachedFit));
      await rename(partial, file);
    }
    return fitted;
  };
}
