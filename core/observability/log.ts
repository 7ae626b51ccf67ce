import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Structured JSON logs: one line per event, which CloudWatch Logs Insights can query by field.
 *
 * Every line carries the process's fields (`function`: the Lambda function or the worker's
 * service) and the fields of the work in hand, kept per asynchronous context
 * (AsyncLocalStorage), so that the records of one SQS event and the chunks a worker runs side by
 * side each log their own `awsRequestId`, `tenant`, `batchId`, `chunk` and `coldStart`.
 *
 * Nothing a client sent or a model wrote is ever logged: see `redact`.
 */
type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const threshold = order[(process.env.LOG_LEVEL as Level) ?? 'info'] ?? order.info;

/** The fields that say what a line is about; set per invocation, record or chunk. */
export interface LogContext {
  /** The Lambda function, or the worker's service (`worker-spot`). */
  function?: string;
  /** Lambda's request id of the invocation. */
  awsRequestId?: string;
  /** The first invocation of this process (a cold start). */
  coldStart?: boolean;
  xrayTraceId?: string;
  tenant?: string;
  batchId?: string;
  chunk?: number;
  /** The SQS message being handled. */
  messageId?: string;
  /** An API route: method and path template. */
  route?: string;
  [field: string]: string | number | boolean | undefined;
}

const store = new AsyncLocalStorage<LogContext>();
/** Fields of the whole process (the worker's pool, say), under every context. */
const processFields: LogContext = process.env.AWS_LAMBDA_FUNCTION_NAME
  ? { function: process.env.AWS_LAMBDA_FUNCTION_NAME }
  : {};

/** Runs `fn` with `fields` added to (and overriding) the fields of the current context. */
export function withLogContext<T>(fields: LogContext, fn: () => T): T {
  return store.run({ ...store.getStore(), ...defined(fields) }, fn);
}

/** Adds fields to the current context (a tenant learnt halfway through a request, say). */
export function appendLogContext(fields: LogContext): void {
  const current = store.getStore();
  if (current) Object.assign(current, defined(fields));
  else Object.assign(processFields, defined(fields));
}

/** The fields lines logged here now carry. */
export function logContext(): LogContext {
  return { ...processFields, ...store.getStore() };
}

let coldStart = true;
/** True the first time it is asked in this process (the first invocation is the cold one). */
export function takeColdStart(): boolean {
  const was = coldStart;
  coldStart = false;
  return was;
}

const defined = (fields: LogContext): LogContext =>
  Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));

/**
 * Field names whose values are never written: credentials, and what clients send and models
 * answer (request and response bodies, prompts, messages, outputs). Compared lower-case, with
 * `_` and `-` removed.
 */
const secretKeys = new Set([
  'authorization',
  'authorizationtoken',
  'apikey',
  'xapikey',
  'token',
  'accesstoken',
  'password',
  'secret',
  'secretaccesskey',
  'sessiontoken',
  'headers',
  'multivalueheaders',
  'body',
  'content',
  'messages',
  'prompt',
  'input',
  'choices',
  'response',
  'text',
  'embedding',
]);
const normalizeKey = (k: string) => k.toLowerCase().replace(/[_-]/g, '');
export const REDACTED = '[redacted]';

/** Credentials and request text in free text: bearer tokens, `sk-` keys, JSON.parse's quote of its input. */
const secretPatterns: [RegExp, string][] = [
  [/\bBearer\s+[^\s"',;]+/gi, `Bearer ${REDACTED}`],
  [/\bsk-[A-Za-z0-9_-]{6,}/g, `sk-${REDACTED}`],
  // Node's JSON.parse error quotes the text it failed on: `Unexpected token 'x', "{...}" is not valid JSON`.
  [/"(?:[^"\\]|\\.)*"(?= is not valid JSON)/g, `"${REDACTED}"`],
];
const MAX_STRING = 2000;

function redactText(s: string): string {
  let out = s.length > MAX_STRING ? `${s.slice(0, MAX_STRING)}…` : s;
  for (const [pattern, replacement] of secretPatterns) out = out.replace(pattern, replacement);
  return out;
}

/**
 * A copy of `value` safe to log: secret and content fields replaced by `[redacted]`, bearer
 * tokens and `sk-` keys cut out of strings, long strings clipped, errors reduced to their name,
 * code, message and stack (themselves redacted), cycles and depth bounded.
 */
export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return typeof value === 'bigint' ? String(value) : value;
  if (seen.has(value)) return '[circular]';
  if (depth > 6) return '[…]';
  seen.add(value);
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return {
      name: value.name,
      ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
      message: redactText(value.message),
      ...(value.stack ? { stack: redactText(value.stack) } : {}),
    };
  }
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redact(v, depth + 1, seen));
  if (value instanceof Date) return value.toISOString();
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      secretKeys.has(normalizeKey(k)) && v !== undefined && v !== null
        ? REDACTED
        : redact(v, depth + 1, seen);
  }
  return out;
}

/** Where lines go: stdout for debug and info, stderr for warn and error. Replaceable in tests. */
let sink = (level: Level, line: string): void => {
  if (level === 'error' || level === 'warn') console.error(line);
  else console.log(line);
};

/** Sends log lines to `to` instead of the console; returns a function that restores the console. */
export function captureLogs(to: (line: string) => void): () => void {
  const previous = sink;
  sink = (_level, line) => to(line);
  return () => {
    sink = previous;
  };
}

function write(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  if (order[level] < threshold) return;
  const entry = redact({
    level,
    time: new Date().toISOString(),
    ...logContext(),
    msg,
    ...fields,
  }) as Record<string, unknown>;
  sink(level, JSON.stringify(entry));
}

export const log = {
  debug: (msg: string, fields?: Record<string, unknown>) => write('debug', msg, fields),
  info: (msg: string, fields?: Record<string, unknown>) => write('info', msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => write('warn', msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => write('error', msg, fields),
};
