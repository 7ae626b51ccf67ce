import busboy from 'busboy';
import { z } from 'zod';
import { BadRequestError, PayloadTooLargeError } from '../../core/errors.js';
import { type ExpiresAfter, expiresAfterSchema, filenameSchema } from '../../core/openai/schemas.js';
import { type HttpEvent, parseWith } from './http.js';

export interface MultipartUpload {
  filename: string;
  purpose: string;
  content: Buffer;
  expiresAfter?: ExpiresAfter;
}

/** The text fields of `POST /v1/files` (OpenAI's CreateFileRequest has no others). */
const FILE_FIELDS = new Set(['purpose', 'expires_after', 'expires_after[anchor]', 'expires_after[seconds]']);

/**
 * `expires_after` as the SDKs send it in a form, `expires_after[anchor]` and
 * `expires_after[seconds]` (the Node and Python SDKs' bracket notation), or as one JSON field
 * (OpenAPI's default encoding of an object in multipart, which spec-driven clients use).
 */
function formExpiresAfter(fields: Record<string, string>): ExpiresAfter | undefined {
  let value: unknown;
  if (fields.expires_after !== undefined) {
    try {
      value = JSON.parse(fields.expires_after);
    } catch {
      throw new BadRequestError(
        "Invalid value for 'expires_after': send expires_after[anchor] and expires_after[seconds], or a JSON object.",
        'expires_after',
      );
    }
  } else if (
    fields['expires_after[anchor]'] !== undefined ||
    fields['expires_after[seconds]'] !== undefined
  ) {
    const seconds = fields['expires_after[seconds]'];
    value = {
      anchor: fields['expires_after[anchor]'],
      // A form sends text: a whole number of seconds, in digits only.
      seconds: seconds !== undefined && /^\s*\d{1,10}\s*$/.test(seconds) ? Number(seconds) : seconds,
    };
  } else return undefined;
  return parseWith(z.object({ expires_after: expiresAfterSchema }), { expires_after: value }).expires_after;
}

/** Parses the fields of a multipart/form-data file upload (what the OpenAI SDKs send). */
export async function parseMultipartUpload(event: HttpEvent, maxBytes: number): Promise<MultipartUpload> {
  const form = await parseMultipartForm(event, { fileField: 'file', maxBytes, tooLarge: fileTooLarge });
  const unknown = Object.keys(form.fields).find((name) => !FILE_FIELDS.has(name));
  if (unknown !== undefined) {
    const name = unknown.slice(0, 100);
    throw new BadRequestError(`Unrecognized request argument supplied: ${name}`, name);
  }
  const purpose = form.fields.purpose;
  if (!purpose) throw new BadRequestError("Missing required parameter: 'purpose'.", 'purpose');
  if (purpose.length > 64)
    throw new BadRequestError("Invalid value for 'purpose': it is too long.", 'purpose');
  const filename = form.file.filename || 'upload.jsonl';
  const name = filenameSchema.safeParse(filename);
  if (!name.success)
    throw new BadRequestError(`Invalid file name: it ${name.error.issues[0]?.message}.`, 'file');
  const expiresAfter = formExpiresAfter(form.fields);
  return {
    filename,
    purpose,
    content: form.file.content,
    ...(expiresAfter ? { expiresAfter } : {}),
  };
}

const fileTooLarge = (maxBytes: number) =>
  new PayloadTooLargeError(
    `File exceeds the ${maxBytes}-byte limit of direct uploads. Use the Uploads API (/v1/uploads) with pre-signed part URLs for larger files.`,
    'file',
  );

export interface MultipartForm {
  fields: Record<string, string>;
  file: { filename: string; content: Buffer };
}

/**
 * Parses a multipart/form-data body with exactly one file part named `fileField` (a second
 * file part is refused, not silently dropped) and any text fields.
 */
export function parseMultipartForm(
  event: HttpEvent,
  opts: { fileField: string; maxBytes: number; tooLarge: (maxBytes: number) => Error },
): Promise<MultipartForm> {
  const { fileField, maxBytes } = opts;
  const headers = Object.fromEntries(
    Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v ?? '']),
  );
  const contentType = headers['content-type'] ?? '';
  if (!contentType.startsWith('multipart/form-data')) {
    return Promise.reject(
      new BadRequestError(`The request must be multipart/form-data with a '${fileField}' field.`),
    );
  }
  const body = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  return new Promise((resolve, reject) => {
    const fields: Record<string, string> = {};
    let file: { filename: string; content: Buffer } | undefined;
    // Set when the part starts: a second part can start before the first one's stream has ended.
    let fileStarted = false;
    let tooLarge = false;
    let extraFiles = 0;
    let parser: busboy.Busboy;
    try {
      // busboy reports `limit` on reaching fileSize, so allow one byte more than the limit.
      parser = busboy({
        headers: { 'content-type': contentType },
        limits: { fileSize: maxBytes + 1 },
        // Browsers and the SDKs send a non-ASCII file name as raw UTF-8 (busboy assumes latin1).
        defParamCharset: 'utf8',
      });
    } catch {
      reject(new BadRequestError('The multipart/form-data content type has no valid boundary.'));
      return;
    }
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (name, stream, info) => {
      if (name !== fileField || fileStarted) {
        extraFiles += 1;
        stream.resume();
        return;
      }
      fileStarted = true;
      const parts: Buffer[] = [];
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('limit', () => {
        tooLarge = true;
      });
      stream.on('end', () => {
        file = { filename: info.filename ?? '', content: Buffer.concat(parts) };
      });
    });
    parser.on('error', () => reject(new BadRequestError('The multipart body could not be parsed.')));
    parser.on('close', () => {
      if (tooLarge) return reject(opts.tooLarge(maxBytes));
      if (extraFiles > 0)
        return reject(new BadRequestError(`Send exactly one file part, named '${fileField}'.`, fileField));
      if (!file) return reject(new BadRequestError(`Missing required parameter: '${fileField}'.`, fileField));
      resolve({ fields, file });
    });
    parser.end(body);
  });
}
