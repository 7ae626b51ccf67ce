import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { ApiClient, UploadProgress } from '../../../lib/api-client';
import { useApiClient } from '../../../lib/api-context';
import type { Batch, CreateBatchInput, FileObject } from '../../../types/api';

/** Uploads an input file (`purpose=batch`) with upload progress. */
export function uploadInputFile(
  client: ApiClient,
  file: File,
  onProgress?: (p: UploadProgress) => void,
  signal?: AbortSignal,
): Promise<FileObject> {
  const form = new FormData();
  form.append('purpose', 'batch');
  form.append('file', file, file.name);
  return client.upload<FileObject>('/files', form, onProgress, signal);
}

export const createBatch = (client: ApiClient, input: CreateBatchInput) =>
  client.post<Batch>('/batches', input);

export interface SubmitBatch {
  /** A new file to upload, or the id of an input file already uploaded (a clone). */
  file: File | { id: string };
  batch: Omit<CreateBatchInput, 'input_file_id'>;
  onProgress?: (p: UploadProgress) => void;
  signal?: AbortSignal;
}

/** Upload (when a new file was picked), then create the batch. */
export function useSubmitBatch() {
  const client = useApiClient();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async ({ file, batch, onProgress, signal }: SubmitBatch) => {
      const inputFileId =
        file instanceof File ? (await uploadInputFile(client, file, onProgress, signal)).id : file.id;
      return createBatch(client, { ...batch, input_file_id: inputFileId });
    },
    onSuccess: (batch) => {
      qc.setQueryData(['batches', 'detail', batch.id], batch);
      void qc.invalidateQueries({ queryKey: ['batches', 'list'] });
    },
  });
}
