import type { ResultLine } from '../../../types/api';

/** One request's outcome, read from a batch's output or error file. */
export interface RequestOutcome {
  customId: string;
  ok: boolean;
  statusCode: number | null;
  requestId: string | null;
  error: string | null;
  source: 'output' | 'error';
  line: number;
  raw: string;
}

/** Success as the server decides it (core/results/result-lines.ts): a 2xx response. */
const isSuccess = (l: ResultLine) =>
  l.response !== null && l.response.status_code >= 200 && l.response.status_code < 300;

export function toOutcome(
  raw: string,
  line: number,
  source: RequestOutcome['source'],
): RequestOutcome | null {
  let parsed: ResultLine;
  try {
    parsed = JSON.parse(raw) as ResultLine;
  } catch {
    return null;
  }
  if (typeof parsed?.custom_id !== 'string') return null;
  const body = parsed.response?.body as { error?: { message?: string } } | undefined;
  return {
    customId: parsed.custom_id,
    ok: isSuccess(parsed),
    statusCode: parsed.response?.status_code ?? null,
    requestId: parsed.response?.request_id ?? null,
    error: parsed.error ? `${parsed.error.code}: ${parsed.error.message}` : (body?.error?.message ?? null),
    source,
    line,
    raw,
  };
}
