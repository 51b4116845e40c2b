// Stage 2: which route serves the model the client asked for, if this consumer may use it.
import { SluiceError } from '../../errors.js';
import { mayUse, type Consumer } from '../../policy/consumers.js';
import type { ModelRoute } from '../routing/model-routes.js';

export function resolveModel(routes: ReadonlyMap<string, ModelRoute>, consumer: Consumer, model: string): ModelRoute {
  const route = routes.get(model);
  if (route === undefined || !mayUse(consumer, model)) {
    throw new SluiceError('model_not_found', `The model '${model}' does not exist or you do not have access to it.`, { param: 'model' });
  }
  return route;
}
