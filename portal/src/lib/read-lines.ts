/**
 * Lines of a byte stream, decoded as UTF-8, one at a time: a file of any size is read without
 * holding more than one chunk and one line in memory. Line numbers are 1-based, as the API's.
 */
export async function* readLines(
  stream: ReadableStream<Uint8Array>,
  opts: { maxBytes?: number } = {},
): AsyncGenerator<{ number: number; text: string }> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  let number = 0;
  let bytes = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      buffered += decoder.decode(value, { stream: true });
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        number += 1;
        yield { number, text: buffered.slice(0, nl).replace(/\r$/, '') };
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf('\n');
      }
      if (opts.maxBytes !== undefined && bytes >= opts.maxBytes) return;
    }
    buffered += decoder.decode();
    if (buffered.length > 0) {
      number += 1;
      yield { number, text: buffered.replace(/\r$/, '') };
    }
  } finally {
    // Stop the download or file read when the caller stops early.
    await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
