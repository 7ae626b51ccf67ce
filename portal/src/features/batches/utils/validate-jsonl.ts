import { readLines } from '../../../lib/read-lines';
import { ENDPOINTS, type Endpoint } from '../../../types/api';

/**
 * Checks a batch input file in the browser, before upload, with the rules and error codes the
 * server's validator uses (core/lines/validate-line.ts and core/chunks/plan-chunks.ts): one JSON
 * object per line, custom_id/method/url/body present, POST only, url equal to the batch's
 * endpoint, no streaming, a model, and unique custom_ids. Blank lines are skipped, as there.
 */
export interface LineProblem {
  line: number;
  code: string;
  message: string;
  param: string | null;
}

export interface ValidationReport {
  requests: number;
  lines: number;
  errors: LineProblem[];
  /** True when more problems exist than `errors` holds. */
  truncated: boolean;
  models: string[];
  customIds: number;
}

export const MAX_REPORTED_ERRORS = 100;

const isEndpoint = (url: string): url is Endpoint => (ENDPOINTS as readonly string[]).includes(url);

export class JsonlValidator {
  readonly #endpoint: string;
  readonly #maxErrors: number;
  readonly #seen = new Set<string>();
  readonly #models = new Set<string>();
  #errors: LineProblem[] = [];
  #problemCount = 0;
  #requests = 0;
  #lines = 0;

  constructor(endpoint: string, maxErrors = MAX_REPORTED_ERRORS) {
    this.#endpoint = endpoint;
    this.#maxErrors = maxErrors;
  }

  /** Adds one line (1-based number) of the file. */
  add(line: number, text: string): void {
    this.#lines = Math.max(this.#lines, line);
    if (text.trim().length === 0) return;
    this.#requests += 1;
    const problem = this.#check(line, text);
    if (!problem) return;
    this.#problemCount += 1;
    if (this.#errors.length < this.#maxErrors) this.#errors.push(problem);
  }

  #check(line: number, text: string): LineProblem | null {
    const fail = (code: string, message: string, param: string | null = null): LineProblem => ({
      line,
      code,
      message,
      param,
    });
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return fail('invalid_json_line', 'This line is not parseable as valid JSON.');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return fail('invalid_json_line', 'Each line must be a JSON object.');
    }
    const r = value as Record<string, unknown>;
    for (const field of ['custom_id', 'method', 'url', 'body'] as const) {
      if (r[field] === undefined || r[field] === null || r[field] === '') {
        return fail('missing_required_parameter', `Missing required parameter: '${field}'.`, field);
      }
    }
    for (const field of ['custom_id', 'method', 'url'] as const) {
      if (typeof r[field] !== 'string') {
        return fail('invalid_request', `Invalid value for '${field}': expected a string.`, field);
      }
    }
    if (typeof r.body !== 'object' || Array.isArray(r.body)) {
      return fail('invalid_request', "Invalid value for 'body': expected an object.", 'body');
    }
    const customId = r.custom_id as string;
    const url = r.url as string;
    const body = r.body as Record<string, unknown>;
    if (r.method !== 'POST') {
      return fail('invalid_request', `Invalid method '${r.method}': only POST is supported.`, 'method');
    }
    if (!isEndpoint(url)) {
      return fail('invalid_url', `The URL '${url}' is not a supported batch endpoint.`, 'url');
    }
    if (url !== this.#endpoint) {
      return fail(
        'invalid_url',
        `The URL '${url}' does not match the batch's endpoint '${this.#endpoint}'.`,
        'url',
      );
    }
    if (body.stream === true) {
      return fail('streaming_unsupported', 'Streaming is not supported in batch requests.', 'body.stream');
    }
    if (typeof body.model !== 'string' || body.model.length === 0) {
      return fail('missing_required_parameter', "Missing required parameter: 'body.model'.", 'body.model');
    }
    if (this.#seen.has(customId)) {
      return fail(
        'invalid_request',
        `The custom_id '${customId}' is used more than once; each request needs a unique custom_id.`,
        'custom_id',
      );
    }
    this.#seen.add(customId);
    this.#models.add(body.model);
    return null;
  }

  report(): ValidationReport {
    const errors = [...this.#errors];
    if (this.#requests === 0) {
      errors.push({
        line: 0,
        code: 'empty_file',
        message: 'The input file contains no requests.',
        param: null,
      });
    }
    return {
      requests: this.#requests,
      lines: this.#lines,
      errors,
      truncated: this.#problemCount > this.#errors.length,
      models: [...this.#models].sort(),
      customIds: this.#seen.size,
    };
  }
}

export function validateJsonlText(text: string, endpoint: string): ValidationReport {
  const v = new JsonlValidator(endpoint);
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((l, i) => {
    v.add(i + 1, l.replace(/\r$/, ''));
  });
  return v.report();
}

/** Streams a File (any size) through the validator. */
export async function validateJsonlFile(
  file: Blob,
  endpoint: string,
  onProgress?: (lines: number) => void,
): Promise<ValidationReport> {
  const v = new JsonlValidator(endpoint);
  for await (const { number, text } of readLines(file.stream())) {
    v.add(number, text);
    if (onProgress && number % 5000 === 0) onProgress(number);
  }
  return v.report();
}

/** The first lines of a file, for a preview. Reads at most `maxBytes`. */
export async function firstLines(file: Blob, count = 5, maxBytes = 256 * 1024): Promise<string[]> {
  const out: string[] = [];
  for await (const { text } of readLines(file.slice(0, maxBytes).stream())) {
    out.push(text);
    if (out.length >= count) break;
  }
  return out;
}
