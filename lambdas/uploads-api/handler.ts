import { getDeps } from '../../core/app/deps.js';
import { PayloadTooLargeError } from '../../core/errors.js';
import {
  completeUploadBodySchema,
  createUploadBodySchema,
  partUrlsBodySchema,
} from '../../core/openai/schemas.js';
import {
  addUploadPart,
  cancelUpload,
  completeUpload,
  createUpload,
  partUrls,
  uploadStatus,
} from '../../core/uploads/uploads-service.js';
import { type HttpEvent, httpApi, json, jsonBody, parseWith, pathId, tenantOf } from '../shared/http.js';
import { parseMultipartForm } from '../shared/multipart.js';
import { countingValidatedLines } from '../shared/upload-validation.js';

const deps = () => getDeps('uploadsApi');
const ref = (event: HttpEvent) => [tenantOf(event), pathId(event, 'upload_id')] as const;

const partTooLarge = (maxBytes: number) =>
  new PayloadTooLargeError(
    `A part sent through the API (POST /v1/uploads/{upload_id}/parts) holds at most ${maxBytes} bytes. Send smaller parts, or PUT parts of any size to pre-signed URLs from POST /v1/openbatch/uploads/{upload_id}/part_urls.`,
    'data',
  );

export const handler = httpApi([
  {
    method: 'POST',
    path: '/v1/uploads',
    handler: async (event: HttpEvent) =>
      json(
        200,
        await createUpload(deps(), tenantOf(event), parseWith(createUploadBodySchema, jsonBody(event))),
      ),
  },
  {
    method: 'POST',
    path: '/v1/uploads/{upload_id}/parts',
    handler: async (event: HttpEvent) => {
      const d = deps();
      const form = await parseMultipartForm(event, {
        fileField: 'data',
        maxBytes: d.limits.MAX_API_UPLOAD_BYTES,
        tooLarge: partTooLarge,
      });
      return json(200, await addUploadPart(d, ...ref(event), form.file.content));
    },
  },
  {
    method: 'POST',
    path: '/v1/uploads/{upload_id}/complete',
    handler: async (event: HttpEvent) => {
      // A batch file stitched from API parts is validated on the way (core/chunks/file-plan.ts).
      const upload = await countingValidatedLines((observe) =>
        completeUpload(deps(), ...ref(event), parseWith(completeUploadBodySchema, jsonBody(event)), observe),
      );
      return json(200, upload);
    },
  },
  {
    method: 'POST',
    path: '/v1/uploads/{upload_id}/cancel',
    handler: async (event: HttpEvent) => json(200, await cancelUpload(deps(), ...ref(event))),
  },
  {
    method: 'POST',
    path: '/v1/openbatch/uploads/{upload_id}/part_urls',
    handler: async (event: HttpEvent) =>
      json(
        200,
        await partUrls(deps(), ...ref(event), parseWith(partUrlsBodySchema, jsonBody(event)).part_numbers),
      ),
  },
  {
    method: 'GET',
    path: '/v1/openbatch/uploads/{upload_id}',
    handler: async (event: HttpEvent) => json(200, await uploadStatus(deps(), ...ref(event))),
  },
]);
