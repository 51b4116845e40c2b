// Look-ups into the vendored NIST SP 800-53 rev5 MODERATE baseline: controls and their assessment objectives by id.
import { readFileSync } from 'node:fs';
import type { CatalogControl, CatalogData, CatalogObjective } from './catalog-data.js';

export class ControlCatalog {
  readonly source: CatalogData['source'];
  private readonly controls: Map<string, CatalogControl>;
  private readonly objectives: Map<string, { control: CatalogControl; objective: CatalogObjective }>;

  constructor(data: CatalogData) {
    this.source = data.source;
    this.controls = new Map(data.controls.map((control) => [control.id, control]));
    this.objectives = new Map();
    for (const control of data.controls) {
      for (const objective of control.objectives) this.objectives.set(objective.id, { control, objective });
    }
  }

  control(id: string): CatalogControl {
    const control = this.controls.get(id);
    if (control === undefined) throw new Error(`control ${id} is not in ${this.source.title}`);
    return control;
  }

  objective(id: string): { control: CatalogControl; objective: CatalogObjective } {
    const found = this.objectives.get(id);
    if (found === undefined) throw new Error(`assessment objective ${id} is not in ${this.source.title}`);
    return found;
  }

  hasObjective(id: string): boolean {
    return this.objectives.has(id);
  }
}

/**
 * Read once at start, as data: a module holding the same object literal kept its source text (0.96 MB) and cost 1.1 MB
 * of heap more for as long as the process ran. The file is generated (scripts/compliance-catalog.mjs) and shipped with
 * the build, so its shape is the script's, not the input's to check.
 */
export const MODERATE_BASELINE = new ControlCatalog(
  JSON.parse(readFileSync(new URL('./baseline/sp800-53-rev5-moderate.json', import.meta.url), 'utf8')) as CatalogData,
);
