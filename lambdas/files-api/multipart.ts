import busboy from 'busboy';
import { BadRequestError, PayloadTooLargeError } from '../../core/errors.js';
import type { HttpEvent } from '../shared/http.js';

export interface MultipartUpload {
  filename: string;
  purpose: string;
  content: Buffer;
}

/** Parses the `file` and `purpose` fields of a multipart/form-data upload (what the OpenAI SDKs send). */
export function parseMultipartUpload(event: HttpEvent, maxBytes: number): Promise<MultipartUpload> {
  const headers = Object.fromEntries(
    Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v ?? '']),
  );
  const contentType = headers['content-type'] ?? '';
  if (!contentType.startsWith('multipart/form-data')) {
    return Promise.reject(
      new BadRequestError("Uploads must be multipart/form-data with a 'file' and a 'purpose' field."),
    );
  }
  const body = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  return new Promise((resolve, reject) => {
    const fields: Record<string, string> = {};
    let file: { filename: string; content: Buffer } | undefined;
    let tooLarge = false;
    let parser: busboy.Busboy;
    try {
      // busboy reports `limit` on reaching fileSize, so allow one byte more than the limit.
      parser = busboy({
        headers: { 'content-type': contentType },
        limits: { fileSize: maxBytes + 1, files: 1 },
      });
    } catch {
      reject(new BadRequestError('The multipart/form-data content type has no valid boundary.'));
      return;
    }
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (name, stream, info) => {
      const parts: Buffer[] = [];
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('limit', () => {
        tooLarge = true;
      });
      stream.on('end', () => {
        if (name === 'file')
          file = { filename: info.filename || 'upload.jsonl', content: Buffer.concat(parts) };
      });
    });
    parser.on('error', () => reject(new BadRequestError('The multipart body could not be parsed.')));
    parser.on('close', () => {
      if (tooLarge) {
        return reject(
          new PayloadTooLargeError(
            `File exceeds the ${maxBytes}-byte limit of direct uploads. Use the Uploads API (/v1/uploads) with pre-signed part URLs for larger files.`,
            'file',
          ),
        );
      }
      if (!file) return reject(new BadRequestError("Missing required parameter: 'file'.", 'file'));
      if (!fields.purpose)
        return reject(new BadRequestError("Missing required parameter: 'purpose'.", 'purpose'));
      resolve({ filename: file.filename, purpose: fields.purpose, content: file.content });
    });
    parser.end(body);
  });
}
