// The operations of one DirectorStore.batch, over the batch's single Change: the same modules the store's own methods
// call, each driver error translated as the store's method would translate it.
import type { ResourceStatus } from '../../config/governance-schema.js';
import type { ModelConfig } from '../../config/schema.js';
import type {
  Consumer,
  ConsumerInput,
  ConsumerPatch,
  DefinitionKind,
  DefinitionKinds,
  DirectorBatch,
  Resource,
  ResourcePatch,
  StoredDefinition,
  StoredProvider,
  Team,
} from '../admin-store.js';
import type { Dialect } from '../dialect.js';
import { translateError, type Change, type Subject } from './change.js';
import * as directory from './directory.js';
import * as governance from './governance.js';
import * as providers from './providers.js';

export class SqlBatch implements DirectorBatch {
  private readonly change: Change;
  private readonly dialect: Dialect;

  constructor(change: Change, dialect: Dialect) {
    this.change = change;
    this.dialect = dialect;
  }

  getTeam(name: string): Promise<Team | null> {
    return directory.getTeam(this.change, name);
  }
  createTeam(team: { name: string; owner: string }): Promise<Team> {
    return this.run({ type: 'team', id: team.name }, () => directory.createTeam(this.change, team));
  }
  updateTeam(name: string, patch: { owner?: string }): Promise<Team> {
    return this.run({ type: 'team', id: name }, () => directory.updateTeam(this.change, name, patch));
  }

  getConsumer(name: string): Promise<Consumer | null> {
    return directory.getConsumer(this.change, name);
  }
  createConsumer(consumer: ConsumerInput): Promise<Consumer> {
    const subject: Subject = { type: 'consumer', id: consumer.name, reference: `team "${consumer.team ?? ''}" does not exist` };
    return this.run(subject, () => directory.createConsumer(this.change, consumer));
  }
  updateConsumer(name: string, patch: ConsumerPatch): Promise<Consumer> {
    const subject: Subject = { type: 'consumer', id: name, reference: `team "${patch.team ?? ''}" does not exist` };
    return this.run(subject, () => directory.updateConsumer(this.change, name, patch));
  }

  listProviders(): Promise<StoredProvider[]> {
    return providers.listProviders(this.change);
  }
  listModels(): Promise<StoredDefinition<ModelConfig>[]> {
    return providers.listModels(this.change);
  }
  createModel(model: ModelConfig): Promise<StoredDefinition<ModelConfig>> {
    return this.run({ type: 'model', id: model.name }, () => providers.createModel(this.change, model));
  }
  updateModel(name: string, model: ModelConfig): Promise<StoredDefinition<ModelConfig>> {
    return this.run({ type: 'model', id: name }, () => providers.updateModel(this.change, name, model));
  }

  getDefinition<K extends DefinitionKind>(kind: K, name: string): Promise<StoredDefinition<DefinitionKinds[K]> | null> {
    return governance.getDocument<DefinitionKinds[K]>(this.change, kind, name);
  }
  createDefinition<K extends DefinitionKind>(kind: K, definition: DefinitionKinds[K]): Promise<StoredDefinition<DefinitionKinds[K]>> {
    const subject: Subject = { type: governance.DOCUMENT_ENTITY[kind], id: definition.name };
    return this.run(subject, () => governance.createDocument(this.change, kind, definition));
  }
  updateDefinition<K extends DefinitionKind>(
    kind: K,
    name: string,
    definition: DefinitionKinds[K],
  ): Promise<StoredDefinition<DefinitionKinds[K]>> {
    const subject: Subject = { type: governance.DOCUMENT_ENTITY[kind], id: name };
    return this.run(subject, () => governance.updateDocument(this.change, kind, name, definition));
  }

  listResources(): Promise<Resource[]> {
    return governance.listResources(this.change);
  }
  createResource(resource: { id: string; status: ResourceStatus; note?: string | null }): Promise<Resource> {
    return this.run({ type: 'resource', id: resource.id }, () => governance.createResource(this.change, resource));
  }
  updateResource(id: string, patch: ResourcePatch): Promise<Resource> {
    return this.run({ type: 'resource', id }, () => governance.updateResource(this.change, id, patch));
  }

  /** A failed statement ends the batch: PostgreSQL refuses any further statement in its transaction, so nothing goes on. */
  private async run<T>(subject: Subject, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw translateError(this.dialect, subject, error);
    }
  }
}
