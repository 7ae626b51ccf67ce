import OpenAI, { toFile } from 'openai';
import type { Batch } from 'openai/resources/batches';

/** The official SDK, unmodified: only baseURL and apiKey are set. */
export const sdk = (url: string, apiKey: string) =>
  new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0 });

export async function upload(client: OpenAI, content: string, filename = 'input.jsonl') {
  return client.files.create({ file: await toFile(Buffer.from(content), filename), purpose: 'batch' });
}

const ENDED = ['completed', 'failed', 'expired', 'cancelled'];

export async function waitUntilEnded(client: OpenAI, id: string, timeoutMs = 60_000): Promise<Batch> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const batch = await client.batches.retrieve(id);
    if (ENDED.includes(batch.status)) return batch;
    if (Date.now() > deadline) throw new Error(`batch ${id} still ${batch.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function resultLines(client: OpenAI, fileId: string | null | undefined) {
  if (!fileId) return [];
  const text = await (await client.files.content(fileId)).text();
  return text
    .split('\n')
    .filter(Boolean)
    .map(
      (l) =>
        JSON.parse(l) as {
          id: string;
          custom_id: string;
          response: { status_code: number; request_id: string; body: Record<string, unknown> } | null;
          error: { code: string; message: string } | null;
        },
    );
}

/** Every custom_id exactly once across output and error files. */
export function countIds(lines: { custom_id: string }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const l of lines) counts.set(l.custom_id, (counts.get(l.custom_id) ?? 0) + 1);
  return counts;
}
