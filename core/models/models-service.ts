import { ApiError } from '../errors.js';
import { type Catalog, type CatalogModel, findModel } from './catalog.js';

/** OpenAI's Model object (GET /v1/models). */
export interface ModelObject {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

export interface ModelList {
  object: 'list';
  data: ModelObject[];
}

/** OpenAI's 404 for a model it does not serve, with its code. */
export class ModelNotFoundError extends ApiError {
  constructor(model: string) {
    super(404, `The model '${model}' does not exist`, 'invalid_request_error', 'model', 'model_not_found');
  }
}

const toModelObject = (m: CatalogModel): ModelObject => ({
  id: m.id,
  object: 'model',
  created: m.created,
  owned_by: m.owned_by,
});

/** Every model in the catalog, in its order. */
export const listModels = (catalog: Catalog): ModelList => ({
  object: 'list',
  data: catalog.models.map(toModelObject),
});

export function retrieveModel(catalog: Catalog, id: string): ModelObject {
  const model = findModel(catalog, id);
  if (!model) throw new ModelNotFoundError(id);
  return toModelObject(model);
}
