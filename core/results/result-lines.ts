import type { ResultLine } from '../openai/schemas.js';

/** Output and error lines exactly as OpenAI's Batch API writes them. */

/**
 * A request the engine answered, whatever the status: a 2xx goes to the output file, anything
 * else to the error file, kept with the engine's status and body.
 */
export const responseLine = (
  id: string,
  customId: string,
  requestId: string,
  statusCode: number,
  body: unknown,
): ResultLine => ({
  id,
  custom_id: customId,
  response: { status_code: statusCode, request_id: requestId, body },
  error: null,
});

/** A request that never got a response (engine unreachable after retries). */
export const errorLine = (id: string, customId: string, code: string, message: string): ResultLine => ({
  id,
  custom_id: customId,
  response: null,
  error: { code, message },
});

export const expiredLine = (id: string, customId: string): ResultLine =>
  errorLine(
    id,
    customId,
    'batch_expired',
    'This request could not be executed before the completion window expired.',
  );

export const isSuccess = (line: ResultLine): boolean =>
  line.response !== null && line.response.status_code >= 200 && line.response.status_code < 300;
