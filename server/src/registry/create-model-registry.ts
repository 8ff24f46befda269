import type { Orm } from '../database/orm.js';
import type { BlobStore } from '../storage/blob-store.js';
import { EmbeddedRegistry } from './embedded-registry.js';
import { MlflowRegistry, type MlflowRegistryOptions } from './mlflow-registry.js';
import type { ModelRegistry } from './model-registry.js';
import { RegistryRepository } from './registry.repository.js';

/** MLflow when a tracking URI is configured, else the embedded registry in Relearn's own database. */
export function createModelRegistry(
  config: { mlflowTrackingUri: string | null },
  deps: { orm: Orm; blobs: BlobStore },
  options: MlflowRegistryOptions = {},
): ModelRegistry {
  return config.mlflowTrackingUri ? new MlflowRegistry(config.mlflowTrackingUri, options) : new EmbeddedRegistry(new RegistryRepository(deps.orm), deps.blobs);
}
