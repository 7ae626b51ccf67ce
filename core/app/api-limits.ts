/**
 * How large a request the API takes through API Gateway and Lambda, and what it answers when a
 * request is larger. Pure: the CDK app builds the WAF rule and the gateway responses from it,
 * and the local runtime plays the same layers with the same numbers and bodies.
 *
 * The layers, in the order a request meets them on AWS:
 *   1. AWS WAF (`api.bodySizeGuard`): Content-Length above MAX_REQUEST_BODY_BYTES → 413, requestTooLargeBody.
 *   2. API Gateway: a body above API_GATEWAY_MAX_BODY_BYTES → REQUEST_TOO_LARGE, 413, requestTooLargeBody.
 *   3. Lambda: an event of LAMBDA_MAX_EVENT_BYTES or more is refused, API Gateway answers
 *      INTEGRATION_FAILURE: INTEGRATION_FAILURE_STATUS, integrationFailureBody.
 *   4. The function: a file or part above MAX_API_UPLOAD_BYTES (core/config.ts) → its own 413.
 */

/** API Gateway (REST) takes request bodies of at most 10 MB (10,485,760 bytes). */
export const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * Lambda's synchronous invocation payload limit, 6 MB: the whole event API Gateway sends (the
 * proxy event JSON, body included) must be smaller ("Request must be smaller than 6291456 bytes").
 */
export const LAMBDA_MAX_EVENT_BYTES = 6 * 1024 * 1024;

/** Bytes of `bytes` bytes once base64-encoded (padded), as API Gateway hands binary bodies to Lambda. */
export const base64Length = (bytes: number): number => 4 * Math.ceil(bytes / 3);

/**
 * The largest request body (Content-Length) the API lets through to a function. multipart/form-data
 * is a binary media type of the API, so API Gateway hands the body to Lambda base64-encoded, and
 * the largest body that passes must still fit Lambda's limit with the rest of the event:
 *
 *   base64(4,600,000 bytes) = 4 × ceil(4,600,000 / 3)   = 6,133,336 bytes
 *   Lambda's limit                                        6,291,456 bytes
 *   left for the rest of the event                        158,120 bytes
 *
 * The rest of the event is the request headers twice (`headers` and `multiValueHeaders`), the
 * query string twice (a regional API's URL is at most 10,240 characters), the path, the
 * requestContext and the field names: about 2 KB for an SDK request, so 158,120 bytes leave
 * room for some 75 KB of request headers. A text body (JSON, not a binary media type) is not
 * base64-encoded but JSON-escaped into the event: only one made mostly of quotes, backslashes or
 * control characters could still grow past the limit below this size.
 */
export const MAX_REQUEST_BODY_BYTES = 4_600_000;

/** What the rest of the event may take beside the largest base64-encoded body that passes. */
export const EVENT_ALLOWANCE_BYTES = LAMBDA_MAX_EVENT_BYTES - base64Length(MAX_REQUEST_BODY_BYTES);

const thousands = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

export interface OpenAIErrorBody {
  readonly error: {
    readonly message: string;
    readonly type: string;
    readonly param: string | null;
    readonly code: string | null;
  };
}

/**
 * The 413 of every layer in front of the functions (the WAF rule, API Gateway's REQUEST_TOO_LARGE,
 * the local runtime): OpenAI's error shape, so the SDK raises an APIError with status 413.
 */
export const requestTooLargeBody: OpenAIErrorBody = {
  error: {
    message:
      `The request body is larger than this API accepts (at most ${thousands(MAX_REQUEST_BODY_BYTES)} bytes). ` +
      'Upload large files with the Uploads API (/v1/uploads): create an upload, PUT its parts to ' +
      'pre-signed URLs from POST /v1/openbatch/uploads/{upload_id}/part_urls, then complete it.',
    type: 'invalid_request_error',
    param: null,
    code: 'request_too_large',
  },
};

/** The status API Gateway's INTEGRATION_FAILURE answers with (a function that could not be invoked). */
export const INTEGRATION_FAILURE_STATUS = 502;

/**
 * INTEGRATION_FAILURE also covers real failures, so it stays a 5xx; its likely cause here is a
 * request that reached API Gateway without Content-Length (chunked), which the WAF rule cannot
 * size, and whose event is over Lambda's payload limit.
 */
export const integrationFailureBody: OpenAIErrorBody = {
  error: {
    message:
      'The server could not hand the request to its function. A likely cause is a request body over ' +
      `${thousands(MAX_REQUEST_BODY_BYTES)} bytes sent without Content-Length, which exceeds AWS Lambda's ` +
      '6 MB payload limit: upload large files with the Uploads API (/v1/uploads) and its pre-signed ' +
      'part URLs. Otherwise retry the request later.',
    type: 'server_error',
    param: null,
    code: null,
  },
};

/**
 * A regular expression matching the decimal representation of an integer strictly above
 * `threshold`: digits only, leading zeros allowed, anchored at both ends. It uses only what AWS
 * WAF's regex engine accepts (a subset of PCRE: no capturing groups, no backreferences, few
 * branches, small quantifiers) and means the same in JavaScript.
 *
 * For a threshold of k digits d1…dk a number is above it when it has more than k significant
 * digits, or exactly k and, at the first position i where it differs, a larger digit:
 * d1…d(i-1) [d(i)+1 - 9] [0-9]{k-i}.
 */
export function decimalAboveRegex(threshold: number): string {
  if (!Number.isSafeInteger(threshold) || threshold < 0)
    throw new Error(`decimalAboveRegex: ${threshold} is not a non-negative safe integer`);
  const digits = String(threshold);
  const k = digits.length;
  const branches = [`[1-9][0-9]{${k},}`];
  for (let i = 0; i < k; i++) {
    const d = Number(digits[i]);
    if (d === 9) continue;
    const next = d + 1 === 9 ? '9' : `[${d + 1}-9]`;
    const rest = k - i - 1;
    const tail = rest === 0 ? '' : rest === 1 ? '[0-9]' : `[0-9]{${rest}}`;
    branches.push(`${digits.slice(0, i)}${next}${tail}`);
  }
  return `^0*(?:${branches.join('|')})$`;
}

/** The Content-Length the WAF rule blocks: above MAX_REQUEST_BODY_BYTES. */
export const contentLengthTooLargeRegex = decimalAboveRegex(MAX_REQUEST_BODY_BYTES);

/**
 * The REST API's binary media types: every type. Request bodies then reach the functions
 * base64-encoded, bytes intact (multipart uploads, files that are not UTF-8), and a function's
 * base64 answer (`isBase64Encoded`, file content) reaches the client as the exact bytes whatever
 * its `Accept` header: API Gateway decides by the request's first Accept value, which `*\/*` always
 * matches. JSON answers are not base64-encoded and pass through as text.
 */
export const BINARY_MEDIA_TYPES: readonly string[] = ['*/*'];
