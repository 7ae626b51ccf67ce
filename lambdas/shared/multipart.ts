import busboy from 'busboy';
import { BadRequestError, PayloadTooLargeError } from '../../core/errors.js';
import type { HttpEvent } from './http.js';

export interface MultipartUpload {
  filename: string;
  purpose: string;
  content: Buffer;
}

/** Parses the `file` and `purpose` fields of a multipart/form-data upload (what the OpenAI SDKs send). */
export async function parseMultipartUpload(event: HttpEvent, maxBytes: number): Promise<MultipartUpload> {
  const form = await parseMultipartForm(event, { fileField: 'file', maxBytes, tooLarge: fileTooLarge });
  if (!form.fields.purpose) throw new BadRequestError("Missing required parameter: 'purpose'.", 'purpose');
  return {
    filename: form.file.filename || 'upload.jsonl',
    purpose: form.fields.purpose,
    content: form.file.content,
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
    let tooLarge = false;
    let extraFiles = 0;
    let parser: busboy.Busboy;
    try {
      // busboy reports `limit` on reaching fileSize, so allow one byte more than the limit.
      parser = busboy({
        headers: { 'content-type': contentType },
        limits: { fileSize: maxBytes + 1 },
      });
    } catch {
      reject(new BadRequestError('The multipart/form-data content type has no valid boundary.'));
      return;
    }
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (name, stream, info) => {
      if (name !== fileField || file) {
        extraFiles += 1;
        stream.resume();
        return;
      }
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
