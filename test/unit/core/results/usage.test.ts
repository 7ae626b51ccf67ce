import { describe, expect, it } from 'vitest';
import { addUsage, noUsage, toBatchUsage, usageOfBody } from '../../../../core/results/usage.js';

describe('usageOfBody', () => {
  it.each([
    [
      'chat completion with cached and reasoning tokens',
      {
        usage: {
          prompt_tokens: 120,
          completion_tokens: 30,
          total_tokens: 150,
          prompt_tokens_details: { cached_tokens: 64 },
          completion_tokens_details: { reasoning_tokens: 12 },
        },
      },
      { input: 120, cached: 64, output: 30, reasoning: 12 },
    ],
    [
      'legacy completion',
      { usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 } },
      { input: 5, cached: 0, output: 7, reasoning: 0 },
    ],
    [
      'embedding',
      { usage: { prompt_tokens: 9, total_tokens: 9 } },
      { input: 9, cached: 0, output: 0, reasoning: 0 },
    ],
    [
      'Responses API',
      {
        usage: {
          input_tokens: 40,
          output_tokens: 60,
          total_tokens: 100,
          input_tokens_details: { cached_tokens: 8 },
          output_tokens_details: { reasoning_tokens: 20 },
        },
      },
      { input: 40, cached: 8, output: 60, reasoning: 20 },
    ],
    ['no usage (an error body)', { error: { message: 'bad' } }, noUsage()],
    ['usage null', { usage: null }, noUsage()],
    ['not an object', 'text', noUsage()],
    [
      'nonsense counts count 0, the rest still counts',
      { usage: { prompt_tokens: -3, completion_tokens: 'many', prompt_tokens_details: null } },
      noUsage(),
    ],
    [
      'details of the wrong type are ignored',
      { usage: { prompt_tokens: 4, completion_tokens: 2, completion_tokens_details: 'x' } },
      { input: 4, cached: 0, output: 2, reasoning: 0 },
    ],
  ])('%s', (_name, body, expected) => {
    expect(usageOfBody(body)).toEqual(expected);
  });
});

describe('batch usage', () => {
  it('sums and renders OpenAI’s Batch usage object, total = input + output', () => {
    const total = addUsage(addUsage(noUsage(), { input: 10, cached: 4, output: 5, reasoning: 1 }), {
      input: 1,
      cached: 0,
      output: 2,
      reasoning: 2,
    });
    expect(toBatchUsage(total)).toEqual({
      input_tokens: 11,
      input_tokens_details: { cached_tokens: 4 },
      output_tokens: 7,
      output_tokens_details: { reasoning_tokens: 3 },
      total_tokens: 18,
    });
  });
});
