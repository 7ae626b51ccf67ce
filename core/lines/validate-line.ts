import { isUtf8 } from 'node:buffer';
import { type BatchError, isSupportedEndpoint, requestLineSchema } from '../openai/schemas.js';

export interface LineRules {
  endpoint: string;
  /** Empty: any model. */
  models: readonly string[];
}

export type LineVerdict =
  | { ok: true; customId: string; model: string | undefined }
  | { ok: false; error: BatchError };

const fail = (line: number, code: string, message: string, param: string | null = null): LineVerdict => ({
  ok: false,
  error: { code, message, param, line },
});

/** Checks one input line against the batch's rules, with OpenAI's error codes. Pure. */
export function validateLine(bytes: Buffer, line: number, rules: LineRules): LineVerdict {
  // Decoding would replace invalid bytes and change the line (its custom_id among them).
  if (!isUtf8(bytes)) return fail(line, 'invalid_json_line', 'This line is not valid UTF-8.');
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return fail(line, 'invalid_json_line', `This line is not parseable as valid JSON.`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail(line, 'invalid_json_line', 'Each line must be a JSON object.');
  }
  const record = value as Record<string, unknown>;
  for (const field of ['custom_id', 'method', 'url', 'body'] as const) {
    if (record[field] === undefined || record[field] === null || record[field] === '') {
      return fail(line, 'missing_required_parameter', `Missing required parameter: '${field}'.`, field);
    }
  }
  const parsed = requestLineSchema.safeParse(record);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue ? String(issue.path[0] ?? '') : null;
    return fail(
      line,
      'invalid_request',
      `Invalid value for '${param}': ${issue?.message ?? 'invalid'}.`,
      param,
    );
  }
  const req = parsed.data;
  if (req.method !== 'POST') {
    return fail(line, 'invalid_request', `Invalid method '${req.method}': only POST is supported.`, 'method');
  }
  if (!isSupportedEndpoint(req.url)) {
    return fail(line, 'invalid_url', `The URL '${req.url}' is not a supported batch endpoint.`, 'url');
  }
  if (req.url !== rules.endpoint) {
    return fail(
      line,
      'invalid_url',
      `The URL '${req.url}' does not match the batch's endpoint '${rules.endpoint}'.`,
      'url',
    );
  }
  if (req.body.stream === true) {
    return fail(
      line,
      'streaming_unsupported',
      'Streaming is not supported in batch requests.',
      'body.stream',
    );
  }
  const model = req.body.model;
  if (typeof model !== 'string' || model.length === 0) {
    return fail(
      line,
      'missing_required_parameter',
      "Missing required parameter: 'body.model'.",
      'body.model',
    );
  }
  if (rules.models.length > 0 && !rules.models.includes(model)) {
    return fail(
      line,
      'model_not_found',
      `The model '${model}' does not exist or is not served here.`,
      'body.model',
    );
  }
  return { ok: true, customId: req.custom_id, model };
}
