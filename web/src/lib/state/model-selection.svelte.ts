import type { ModelInfo } from '../graphql/types.js';

/** The tasks the server offers and the one the dashboard shows (kept in the URL hash). */
export class ModelSelection {
  models = $state<ModelInfo[]>([]);
  name = $state<string | null>(null);
  selected = $derived(this.models.find((m) => m.name === this.name) ?? null);

  /** Takes the server's list; keeps the choice when it still exists, else the preferred or first one. */
  load(models: ModelInfo[], preferred?: string | null): void {
    this.models = models;
    const keep = [this.name, preferred].find((n) => n && models.some((m) => m.name === n));
    this.name = keep ?? models[0]?.name ?? null;
  }

  /** A version became live (a push, or noticed in a query): the picker says so at once. */
  setLive(name: string, version: number): void {
    if (this.models.find((m) => m.name === name)?.liveVersion?.version === version) return;
    this.models = this.models.map((m) => (m.name === name ? { ...m, liveVersion: { version, belowThreshold: null } } : m));
  }

  select(name: string): void {
    if (this.models.some((m) => m.name === name)) this.name = name;
  }
}

export const modelSelection = new ModelSelection();
