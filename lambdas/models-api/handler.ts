import { getDeps } from '../../core/app/deps.js';
import { catalogOf } from '../../core/models/catalog.js';
import { listModels, retrieveModel } from '../../core/models/models-service.js';
import { type HttpEvent, httpApi, json, pathParam } from '../shared/http.js';

export const handler = httpApi([
  {
    method: 'GET',
    path: '/v1/models',
    handler: async () => json(200, listModels(catalogOf(getDeps('modelsApi').limits))),
  },
  {
    method: 'GET',
    path: '/v1/models/{model}',
    handler: async (event: HttpEvent) =>
      json(200, retrieveModel(catalogOf(getDeps('modelsApi').limits), pathParam(event, 'model'))),
  },
]);
