import { describe, expect, it } from 'vitest';
import {
  batchDedupMode,
  canonicalJson,
  dedupApplies,
  dedupRequestOf,
  isSampling,
  requestHash,
} from '../../../../core/dedup/normalise.js';

const chat = '/v1/chat/completions';

describe('canonicalJson', () => {
  it('sorts object keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}',
    );
    expect(canonicalJson([3, 1, 2])).toBe('[3,1,2]');
  });

  it('drops undefined members, as JSON does', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
  });
});

describe('requestHash', () => {
  const body = { model: 'm', temperature: 0, messages: [{ role: 'user', content: 'hi' }] };

  it('is the same whatever the key order, at any depth', () => {
    const reordered = { messages: [{ content: 'hi', role: 'user' }], temperature: 0, model: 'm' };
    expect(requestHash('t', chat, reordered).equals(requestHash('t', chat, body))).toBe(true);
    // Numbers are normalised by parsing: 0.0 and 0 are one value.
    const parsed = JSON.parse('{"model":"m","temperature":0.0,"messages":[{"role":"user","content":"hi"}]}');
    expect(requestHash('t', chat, parsed).equals(requestHash('t', chat, body))).toBe(true);
  });

  it('differs by tenant, endpoint, model and any value, and by array order', () => {
    const base = requestHash('t', chat, body);
    expect(requestHash('u', chat, body).equals(base)).toBe(false);
    expect(requestHash('t', '/v1/completions', body).equals(base)).toBe(false);
    expect(requestHash('t', chat, { ...body, model: 'n' }).equals(base)).toBe(false);
    expect(
      requestHash('t', chat, { ...body, messages: [{ role: 'user', content: 'hi ' }] }).equals(base),
    ).toBe(false);
    const two = (a: string, b: string) => ({ ...body, messages: [{ content: a }, { content: b }] });
    expect(requestHash('t', chat, two('a', 'b')).equals(requestHash('t', chat, two('b', 'a')))).toBe(false);
  });

  it('cannot be forged across tenants by the tenant-endpoint boundary', () => {
    expect(requestHash('a', 'b/c', body).equals(requestHash('a/b', 'c', body))).toBe(false);
  });
});

describe('isSampling', () => {
  it('samples without a temperature (the default is 1) or above 0, unless a seed is set', () => {
    expect(isSampling(chat, { model: 'm' })).toBe(true);
    expect(isSampling(chat, { model: 'm', temperature: null })).toBe(true);
    expect(isSampling(chat, { model: 'm', temperature: 0.7 })).toBe(true);
    expect(isSampling(chat, { model: 'm', temperature: 0 })).toBe(false);
    expect(isSampling(chat, { model: 'm', temperature: 0.7, seed: 42 })).toBe(false);
    expect(isSampling(chat, { model: 'm', seed: 0 })).toBe(false);
    expect(isSampling(chat, { model: 'm', seed: null })).toBe(true);
  });

  it('never for embeddings', () => {
    expect(isSampling('/v1/embeddings', { model: 'e', input: 'x' })).toBe(false);
  });
});

describe('dedupApplies and the batch mode', () => {
  it('off reuses nothing; on only requests that do not sample; include_sampling all', () => {
    const greedy = { model: 'm', temperature: 0 };
    const sampled = { model: 'm' };
    expect(dedupApplies('off', chat, greedy)).toBe(false);
    expect(dedupApplies('on', chat, greedy)).toBe(true);
    expect(dedupApplies('on', chat, sampled)).toBe(false);
    expect(dedupApplies('include_sampling', chat, sampled)).toBe(true);
  });

  it('is on by default, off when the batch or the deployment says so', () => {
    expect(batchDedupMode('on', undefined)).toBe('on');
    expect(batchDedupMode('on', true)).toBe('on');
    expect(batchDedupMode('on', false)).toBe('off');
    expect(batchDedupMode('on', 'include_sampling')).toBe('include_sampling');
    expect(batchDedupMode('off', 'include_sampling')).toBe('off');
    expect(batchDedupMode('off', undefined)).toBe('off');
  });

  it('a retry asks for its source’s mode', () => {
    for (const mode of ['on', 'off', 'include_sampling'] as const)
      expect(batchDedupMode('on', dedupRequestOf(mode))).toBe(mode);
  });
});
