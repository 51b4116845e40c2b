// Look-ups into the vendored NIST SP 800-53 rev5 MODERATE baseline: controls and their assessment objectives by id.
import type { CatalogControl, CatalogData, CatalogObjective } from './catalog-data.js';
import { SP800_53_REV5_MODERATE } from './baseline/sp800-53-rev5-moderate.js';

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

export const MODERATE_BASELINE = new ControlCatalog(SP800_53_REV5_MODERATE);
