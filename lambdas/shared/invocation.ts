import type { Context } from 'aws-lambda';
import { type LogContext, takeColdStart, withLogContext } from '../../core/observability/log.js';

/**
 * Runs one invocation with its log context: the function, Lambda's request id, whether it is
 * the process's first (a cold start) and the X-Ray trace id, plus `fields` (a route, a tenant).
 * Every line logged while it runs carries them.
 */
export function withInvocation<T>(context: Context | undefined, fields: LogContext, fn: () => Promise<T>) {
  return withLogContext(
    {
      function: context?.functionName ?? process.env.AWS_LAMBDA_FUNCTION_NAME,
      awsRequestId: context?.awsRequestId,
      coldStart: takeColdStart(),
      xrayTraceId: process.env._X_AMZN_TRACE_ID,
      ...fields,
    },
    fn,
  );
}

/** The batch a queue message is about, for the log context: its tenant, batch id and chunk when it has them. */
export function messageFields(message: unknown): LogContext {
  if (typeof message !== 'object' || message === null) return {};
  const m = message as Record<string, unknown>;
  return {
    ...(typeof m.tenant === 'string' ? { tenant: m.tenant } : {}),
    ...(typeof m.batchId === 'string' ? { batchId: m.batchId } : {}),
    ...(typeof m.chunk === 'number' ? { chunk: m.chunk } : {}),
  };
}
