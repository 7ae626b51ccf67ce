import { afterEach, describe, expect, it } from 'vitest';
import {
  appendLogContext,
  captureLogs,
  log,
  logContext,
  REDACTED,
  redact,
  takeColdStart,
  withLogContext,
} from '../../../../core/observability/log.js';

let lines: Record<string, unknown>[] = [];
let restore: (() => void) | undefined;
const capture = () => {
  lines = [];
  restore = captureLogs((l) => lines.push(JSON.parse(l) as Record<string, unknown>));
};
afterEach(() => restore?.());

describe('log context', () => {
  it('adds the fields of the context a line is written in, nested contexts overriding', async () => {
    capture();
    await withLogContext({ function: 'scheduler', awsRequestId: 'req-1', coldStart: true }, async () => {
      await withLogContext({ tenant: 't1', batchId: 'batch_1' }, async () => {
        await new Promise((r) => setTimeout(r, 1));
        log.warn('inner', { chunk: 3 });
      });
      log.warn('outer');
    });
    expect(lines[0]).toMatchObject({
      level: 'warn',
      msg: 'inner',
      function: 'scheduler',
      awsRequestId: 'req-1',
      coldStart: true,
      tenant: 't1',
      batchId: 'batch_1',
      chunk: 3,
    });
    expect(typeof lines[0]?.time).toBe('string');
    expect(lines[1]).toMatchObject({ msg: 'outer', awsRequestId: 'req-1' });
    expect(lines[1]).not.toHaveProperty('batchId');
  });

  it('keeps concurrent contexts apart (records of one event, chunks of one worker)', async () => {
    capture();
    await Promise.all(
      [1, 2, 3].map((chunk) =>
        withLogContext({ batchId: `batch_${chunk}`, chunk }, async () => {
          await new Promise((r) => setTimeout(r, 5 - chunk));
          appendLogContext({ tenant: `t${chunk}` });
          await new Promise((r) => setTimeout(r, chunk));
          log.error('done');
        }),
      ),
    );
    expect(lines.map((l) => [l.chunk, l.batchId, l.tenant]).sort()).toEqual([
      [1, 'batch_1', 't1'],
      [2, 'batch_2', 't2'],
      [3, 'batch_3', 't3'],
    ]);
  });

  it('drops undefined fields and reports the current context', () => {
    withLogContext({ tenant: 'a', batchId: undefined }, () => {
      expect(logContext()).toMatchObject({ tenant: 'a' });
      expect(logContext()).not.toHaveProperty('batchId');
    });
  });

  it('says cold start once per process', () => {
    takeColdStart();
    expect(takeColdStart()).toBe(false);
  });
});

describe('redaction', () => {
  it('never writes credentials, request bodies or model outputs', () => {
    capture();
    const event = {
      headers: { authorization: 'Bearer sk-live-abcdef123456' },
      body: '{"messages":[{"role":"user","content":"the secret prompt"}]}',
    };
    log.error('failed', {
      event,
      apiKey: 'key-123',
      authorization_token: 'abc',
      response: { choices: [{ message: { content: 'the model said this' } }] },
      request: { custom_id: 'req-1', body: { messages: [{ content: 'the secret prompt' }] } },
      note: 'sent with Authorization: Bearer tok_9999 and key sk-openbatch-local',
    });
    const text = JSON.stringify(lines);
    for (const secret of [
      'sk-live-abcdef123456',
      'the secret prompt',
      'the model said this',
      'key-123',
      'tok_9999',
      'sk-openbatch-local',
    ])
      expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({
      event: { headers: REDACTED, body: REDACTED },
      apiKey: REDACTED,
      authorization_token: REDACTED,
      response: REDACTED,
      request: { custom_id: 'req-1', body: REDACTED },
    });
    expect(lines[0]?.note).toBe(`sent with Authorization: Bearer ${REDACTED} and key sk-${REDACTED}`);
  });

  it('reduces errors to name, code, message and stack, without the JSON they failed on', () => {
    let parseError: unknown;
    try {
      JSON.parse('{"custom_id": "x", "body": {"prompt": "private words"}');
    } catch (err) {
      parseError = err;
    }
    const out = redact({ err: parseError, other: Object.assign(new Error('boom'), { code: 'E1' }) }) as {
      err: { name: string; message: string; stack: string };
      other: Record<string, unknown>;
    };
    expect(out.err.name).toBe('SyntaxError');
    expect(JSON.stringify(out)).not.toContain('private words');
    expect(out.other).toMatchObject({ name: 'Error', code: 'E1', message: 'boom' });
  });

  it('bounds what it writes: long strings, buffers, cycles', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const out = redact({ long: 'x'.repeat(5000), buf: Buffer.alloc(10), cyclic }) as Record<string, unknown>;
    expect((out.long as string).length).toBeLessThan(2100);
    expect(out.buf).toBe('[10 bytes]');
    expect(out.cyclic).toEqual({ a: 1, self: '[circular]' });
  });

  it('leaves ordinary fields alone', () => {
    expect(redact({ batchId: 'batch_1', outputKey: 'a/b', ms: 3, ok: true, n: null })).toEqual({
      batchId: 'batch_1',
      outputKey: 'a/b',
      ms: 3,
      ok: true,
      n: null,
    });
  });
});
