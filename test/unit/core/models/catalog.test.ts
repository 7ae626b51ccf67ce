import { describe, expect, it } from 'vitest';
import { resolveResources, WiringError } from '../../../../core/app/resources.js';
import { limitsSchema, readConfig } from '../../../../core/config.js';
import { toErrorResponse } from '../../../../core/errors.js';
import {
  catalogOf,
  parseCatalog,
  poolGroupOf,
  poolGroups,
  poolQueueOf,
  simulatedCatalog,
} from '../../../../core/models/catalog.js';
import { listModels, retrieveModel } from '../../../../core/models/models-service.js';

const two = JSON.stringify({
  pools: { gpu: { engine_url: 'http://127.0.0.1:9000/v1' } },
  models: [{ id: 'alpha' }, { id: 'beta', pool: 'gpu', owned_by: 'acme', created: 1700000000 }],
});

describe('parseCatalog', () => {
  it('fills defaults: the default pool group, owner and created', () => {
    expect(parseCatalog(two).models).toEqual([
      { id: 'alpha', pool: 'default', owned_by: 'openbatch', created: 0 },
      { id: 'beta', pool: 'gpu', owned_by: 'acme', created: 1700000000 },
    ]);
  });

  it.each([
    ['not JSON', '{', 'MODEL_CATALOG is not JSON'],
    ['no models', '{"models":[]}', 'models'],
    ['a duplicate model', '{"models":[{"id":"a"},{"id":"a"}]}', "duplicate model 'a'"],
    [
      'a pool group no model uses',
      '{"pools":{"x":{}},"models":[{"id":"a"}]}',
      "no model runs on pool group 'x'",
    ],
    ['an uppercase group', '{"models":[{"id":"a","pool":"GPU"}]}', 'lowercase'],
    [
      'an engine URL that is not one',
      '{"pools":{"default":{"engine_url":"nope"}},"models":[{"id":"a"}]}',
      'engine_url',
    ],
  ])('refuses %s', (_, text, message) => {
    expect(() => parseCatalog(text)).toThrow(message);
  });
});

describe('catalogOf (MODEL_CATALOG, else MODELS, else the simulated models)', () => {
  it.each([
    ['nothing set: the simulated models', {}, simulatedCatalog.models.map((m) => m.id)],
    ['MODELS: each on the default group', { MODELS: 'llama-3, qwen' }, ['llama-3', 'qwen']],
    ['MODEL_CATALOG wins over MODELS', { MODELS: 'llama-3', MODEL_CATALOG: two }, ['alpha', 'beta']],
  ])('%s', (_, env, ids) => {
    const catalog = catalogOf(readConfig(limitsSchema, env));
    expect(catalog.models.map((m) => m.id)).toEqual(ids);
  });

  it('reports a bad MODEL_CATALOG by name at start-up', () => {
    expect(() => readConfig(limitsSchema, { MODEL_CATALOG: '{"models":[]}' })).toThrow(/MODEL_CATALOG/);
  });
});

describe('routing a model to its pool group', () => {
  const catalog = parseCatalog(two);
  it.each([
    ['alpha', 'spot', 'default', 'spot'],
    ['alpha', 'dedicated', 'default', 'dedicated'],
    ['beta', 'spot', 'gpu', 'spot@gpu'],
    ['beta', 'dedicated', 'gpu', 'dedicated@gpu'],
    // A batch not validated yet, or whose model left the catalog, runs where every batch did.
    [undefined, 'spot', 'default', 'spot'],
    ['gone', 'dedicated', 'default', 'dedicated'],
  ] as const)('%s on %s: group %s, queue %s', (model, pool, group, queue) => {
    expect(poolGroupOf(catalog, model)).toBe(group);
    expect(poolQueueOf(catalog, model, pool)).toBe(queue);
  });

  it('lists the groups in the order of their first model', () => {
    expect(poolGroups(catalog)).toEqual(['default', 'gpu']);
  });
});

describe('pool queues of other groups (POOL_QUEUE_URLS)', () => {
  const env = {
    SPOT_QUEUE_URL: 'http://sqs/p-spot',
    DEDICATED_QUEUE_URL: 'http://sqs/p-dedicated',
    POOL_QUEUE_URLS: JSON.stringify({
      gpu: { spot: 'http://sqs/p-gpu-spot', dedicated: 'http://sqs/p-gpu-dedicated' },
    }),
  };

  it('resolves the default group from its variable and another from POOL_QUEUE_URLS', () => {
    const r = resolveResources('scheduler', { queues: ['spot', 'dedicated'] }, env);
    expect(r.queue('spot')).toBe('http://sqs/p-spot');
    expect(r.queue('spot@gpu')).toBe('http://sqs/p-gpu-spot');
    expect(r.queue('dedicated@gpu')).toBe('http://sqs/p-gpu-dedicated');
  });

  it('refuses a group POOL_QUEUE_URLS does not name, and a principal that declares no pool queue', () => {
    const r = resolveResources('scheduler', { queues: ['spot', 'dedicated'] }, env);
    expect(() => r.queue('spot@other')).toThrow(WiringError);
    const finalizer = resolveResources('finalizer', { queues: [] }, env);
    expect(() => finalizer.queue('spot@gpu')).toThrow(/does not declare/);
  });
});

describe('the Models API over the catalog', () => {
  const catalog = parseCatalog(two);
  it("lists every model in OpenAI's shape", () => {
    expect(listModels(catalog)).toEqual({
      object: 'list',
      data: [
        { id: 'alpha', object: 'model', created: 0, owned_by: 'openbatch' },
        { id: 'beta', object: 'model', created: 1700000000, owned_by: 'acme' },
      ],
    });
  });

  it("answers an unknown model with OpenAI's 404 model_not_found", () => {
    expect(retrieveModel(catalog, 'beta').id).toBe('beta');
    let thrown: unknown;
    try {
      retrieveModel(catalog, 'gpt-9');
    } catch (err) {
      thrown = err;
    }
    expect(toErrorResponse(thrown)).toEqual({
      status: 404,
      body: {
        error: {
          message: "The model 'gpt-9' does not exist",
          type: 'invalid_request_error',
          param: 'model',
          code: 'model_not_found',
        },
      },
    });
  });
});
