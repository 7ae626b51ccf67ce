import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { ApiClient, UploadProgress } from '../../../lib/api-client';
import { useApiClient, useRuntimeConfig } from '../../../lib/api-context';
import type { Batch, CreateBatchInput, FileObject } from '../../../types/api';
import {
  apiTransport,
  type PresignedUploadState,
  presignedUpload,
  type UploadTransport,
} from './presigned-upload';

export interface UploadInputOptions {
  /** Files up to this size go in one `POST /v1/files`; larger ones in pre-signed parts. */
  directLimitBytes: number;
  /** Bytes sent so far, whichever way the file goes. */
  onProgress?: (p: UploadProgress) => void;
  /** The parts' states, for a file that goes in pre-signed parts. */
  onParts?: (s: PresignedUploadState) => void;
  signal?: AbortSignal;
  /** Replaces the API and storage (tests). */
  transport?: UploadTransport;
}

/**
 * Uploads an input file (`purpose=batch`) with upload progress: in one request up to the API's
 * direct-upload limit, above it through the Uploads API in pre-signed parts straight to storage.
 */
export function uploadInputFile(
  client: ApiClient,
  file: File,
  opts: UploadInputOptions,
): Promise<FileObject> {
  if (file.size <= opts.directLimitBytes) {
    const form = new FormData();
    form.append('purpose', 'batch');
    form.append('file', file, file.name);
    return client.upload<FileObject>('/files', form, opts.onProgress, opts.signal);
  }
  return presignedUpload(file, file.name, {
    transport: opts.transport ?? apiTransport(client),
    onState: (s) => {
      opts.onParts?.(s);
      opts.onProgress?.({ loaded: s.loaded, total: s.total });
    },
    signal: opts.signal,
  });
}

export const createBatch = (client: ApiClient, input: CreateBatchInput) =>
  client.post<Batch>('/batches', input);

export interface SubmitBatch {
  /** A new file to upload, or the id of an input file already uploaded (a clone). */
  file: File | { id: string };
  batch: Omit<CreateBatchInput, 'input_file_id'>;
  onProgress?: (p: UploadProgress) => void;
  onParts?: (s: PresignedUploadState) => void;
  signal?: AbortSignal;
}

/** Upload (when a new file was picked), then create the batch. */
export function useSubmitBatch() {
  const client = useApiClient();
  const { directUploadLimitBytes } = useRuntimeConfig();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async ({ file, batch, onProgress, onParts, signal }: SubmitBatch) => {
      const inputFileId =
        file instanceof File
          ? (
              await uploadInputFile(client, file, {
                directLimitBytes: directUploadLimitBytes,
                onProgress,
                onParts,
                signal,
              })
            ).id
          : file.id;
      return createBatch(client, { ...batch, input_file_id: inputFileId });
    },
    onSuccess: (batch) => {
      qc.setQueryData(['batches', 'detail', batch.id], batch);
      void qc.invalidateQueries({ queryKey: ['batches', 'list'] });
    },
  });
}
