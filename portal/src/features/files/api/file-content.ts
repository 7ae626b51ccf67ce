import { queryOptions, useQuery } from '@tanstack/react-query';
import { type ApiClient, ApiError } from '../../../lib/api-client';
import { useApiClient } from '../../../lib/api-context';
import { readLines } from '../../../lib/read-lines';
import type { FileObject } from '../../../types/api';

export const fileQueryOptions = (client: ApiClient, id: string) =>
  queryOptions({
    queryKey: ['files', id],
    queryFn: ({ signal }) => client.get<FileObject>(`/files/${encodeURIComponent(id)}`, undefined, signal),
    staleTime: Number.POSITIVE_INFINITY,
    retry: (count, err) => !(err instanceof ApiError && err.status === 404) && count < 2,
  });

export function useFileObject(id: string | null) {
  const client = useApiClient();
  return useQuery({ ...fileQueryOptions(client, id ?? ''), enabled: id !== null });
}

export interface FileHead {
  lines: { number: number; text: string }[];
  /** True when the file has more than the lines read. */
  more: boolean;
}

/**
 * The first lines of a file's content, streamed: the download stops as soon as enough lines
 * (or bytes) were read, so previewing a large output file costs a few kilobytes.
 * `GET /files/{id}/content` answers inline or redirects to a pre-signed S3 URL; fetch follows
 * the redirect and, being cross-origin, drops the Authorization header, as S3 requires.
 */
export async function readFileHead(
  client: ApiClient,
  id: string,
  opts: { maxLines: number; maxBytes: number; signal?: AbortSignal },
): Promise<FileHead> {
  const res = await client.raw(`/files/${encodeURIComponent(id)}/content`, {
    method: 'GET',
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const lines: FileHead['lines'] = [];
  let more = false;
  if (!res.body) return { lines, more };
  for await (const line of readLines(res.body, { maxBytes: opts.maxBytes })) {
    if (line.text.trim() === '') continue;
    if (lines.length >= opts.maxLines) {
      more = true;
      break;
    }
    lines.push(line);
  }
  return { lines, more };
}

export const fileHeadQueryOptions = (client: ApiClient, id: string, maxLines: number, maxBytes: number) =>
  queryOptions({
    queryKey: ['files', id, 'head', maxLines, maxBytes],
    queryFn: ({ signal }) => readFileHead(client, id, { maxLines, maxBytes, signal }),
    // A file's content never changes once written.
    staleTime: Number.POSITIVE_INFINITY,
  });

export function useFileHead(id: string | null, maxLines: number, maxBytes = 4 * 1024 * 1024) {
  const client = useApiClient();
  return useQuery({ ...fileHeadQueryOptions(client, id ?? '', maxLines, maxBytes), enabled: id !== null });
}

/**
 * Saves a file's content to the user's disk. The API needs the bearer token, so a plain link
 * cannot do it: the content is fetched and handed to the browser as a blob.
 */
export async function downloadFile(client: ApiClient, id: string, filename: string): Promise<number> {
  const res = await client.raw(`/files/${encodeURIComponent(id)}/content`, { method: 'GET' });
  const blob = await res.blob();
  saveBlob(blob, filename);
  return blob.size;
}

/** Hands a blob to the browser as a download named `filename`. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  try {
    const a = document.createElement('a');
    a.href = url;
    a.download = filename;
    a.rel = 'noopener';
    document.body.append(a);
    a.click();
    a.remove();
  } finally {
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}
