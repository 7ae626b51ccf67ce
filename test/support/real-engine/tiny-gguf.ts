/**
 * Writes a tiny, randomly-initialised Llama-architecture GGUF model (well under 1 MB)
 * that llama.cpp (via node-llama-cpp) can load and run real forward passes on.
 *
 * No network, no Python: the GGUF v3 container is written byte-for-byte here.
 *
 * Tokenizer: SentencePiece-style ("llama") vocab made of
 *   <unk>, <s>, </s>, 256 byte-fallback tokens <0x00>..<0xFF>, "▁" and the 94 printable
 *   ASCII characters. Any UTF-8 text tokenizes (unknown chars fall back to bytes).
 *
 * Weights: seeded PRNG, so the file is the same on every run (same Node/V8) and greedy
 * generation is deterministic. The output-projection rows of every token that is not
 * printable ASCII or "▁" (specials, EOS and the byte tokens) are zero, so under greedy
 * sampling the model effectively always emits printable gibberish and never EOS:
 * completions run to `max_tokens` (finish_reason "length") unless a `stop` string hits.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const TINY_MODEL_CONFIG = {
  name: 'openbatch-tiny-llama',
  nEmbd: 64,
  nLayer: 2,
  nHead: 4,
  nHeadKv: 4,
  nFf: 128,
  contextLength: 4096,
  seed: 0x0b47c4,
  version: 1, // bump to invalidate cached files when the format/weights change
} as const;

const ALIGNMENT = 32;

// GGUF value types
const T_UINT32 = 4;
const T_INT32 = 5;
const T_FLOAT32 = 6;
const T_BOOL = 7;
const T_STRING = 8;
const T_ARRAY = 9;

// ggml tensor type
const GGML_F32 = 0;

// llama.cpp token types
const TOK_NORMAL = 1;
const TOK_UNKNOWN = 2;
const TOK_CONTROL = 3;
const TOK_BYTE = 6;

type KvValue =
  | { type: 'u32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'str'; value: string }
  | { type: 'arr_str'; value: readonly string[] }
  | { type: 'arr_f32'; value: readonly number[] }
  | { type: 'arr_i32'; value: readonly number[] };

class ByteWriter {
  private buf = Buffer.alloc(1 << 16);
  private len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  get length(): number {
    return this.len;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf.writeUInt8(v, this.len);
    this.len += 1;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v, this.len);
    this.len += 4;
  }
  i32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32LE(v, this.len);
    this.len += 4;
  }
  u64(v: number | bigint): void {
    this.ensure(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.len);
    this.len += 8;
  }
  f32(v: number): void {
    this.ensure(4);
    this.buf.writeFloatLE(v, this.len);
    this.len += 4;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.bytes(b);
  }
  padTo(alignment: number): void {
    while (this.len % alignment !== 0) this.u8(0);
  }
  toBuffer(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

/** mulberry32 PRNG + Box-Muller -> deterministic N(0, 1) samples. */
function makeGaussian(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => {
    const u1 = Math.max(uniform(), 1e-12);
    const u2 = uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  };
}

interface Vocab {
  tokens: string[];
  scores: number[];
  types: number[];
  /** tokens whose output-projection row is non-zero (printable ASCII and "▁") */
  emittable: Set<number>;
}

function buildVocab(): Vocab {
  const tokens: string[] = [];
  const scores: number[] = [];
  const types: number[] = [];
  const emittable = new Set<number>();
  const add = (t: string, type: number, score: number, emit = false): void => {
    if (emit) emittable.add(tokens.length);
    tokens.push(t);
    types.push(type);
    scores.push(score);
  };
  add('<unk>', TOK_UNKNOWN, 0);
  add('<s>', TOK_CONTROL, 0);
  add('</s>', TOK_CONTROL, 0);
  for (let b = 0; b < 256; b++) {
    add(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, TOK_BYTE, 0);
  }
  add('\u2581', TOK_NORMAL, -1, true); // SentencePiece space
  for (let c = 0x21; c <= 0x7e; c++) add(String.fromCharCode(c), TOK_NORMAL, -1, true);
  return { tokens, scores, types, emittable };
}

interface Tensor {
  name: string;
  /** ggml order: ne[0] is the contiguous (row) dimension */
  ne: number[];
  data: Float32Array;
}

export function buildTinyLlamaGguf(): Buffer {
  const cfg = TINY_MODEL_CONFIG;
  const vocab = buildVocab();
  const nVocab = vocab.tokens.length;
  const gauss = makeGaussian(cfg.seed);
  const headDim = cfg.nEmbd / cfg.nHead;
  const nEmbdKv = headDim * cfg.nHeadKv;

  const rand = (n: number, std: number): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = gauss() * std;
    return a;
  };
  const ones = (n: number): Float32Array => new Float32Array(n).fill(1);

  const tensors: Tensor[] = [];
  tensors.push({ name: 'token_embd.weight', ne: [cfg.nEmbd, nVocab], data: rand(cfg.nEmbd * nVocab, 1) });
  for (let l = 0; l < cfg.nLayer; l++) {
    const p = `blk.${l}.`;
    const s = 1 / Math.sqrt(cfg.nEmbd);
    tensors.push({ name: `${p}attn_norm.weight`, ne: [cfg.nEmbd], data: ones(cfg.nEmbd) });
    tensors.push({
      name: `${p}attn_q.weight`,
      ne: [cfg.nEmbd, cfg.nEmbd],
      data: rand(cfg.nEmbd * cfg.nEmbd, s),
    });
    tensors.push({ name: `${p}attn_k.weight`, ne: [cfg.nEmbd, nEmbdKv], data: rand(cfg.nEmbd * nEmbdKv, s) });
    tensors.push({ name: `${p}attn_v.weight`, ne: [cfg.nEmbd, nEmbdKv], data: rand(cfg.nEmbd * nEmbdKv, s) });
    tensors.push({
      name: `${p}attn_output.weight`,
      ne: [cfg.nEmbd, cfg.nEmbd],
      data: rand(cfg.nEmbd * cfg.nEmbd, s),
    });
    tensors.push({ name: `${p}ffn_norm.weight`, ne: [cfg.nEmbd], data: ones(cfg.nEmbd) });
    tensors.push({
      name: `${p}ffn_gate.weight`,
      ne: [cfg.nEmbd, cfg.nFf],
      data: rand(cfg.nEmbd * cfg.nFf, s),
    });
    tensors.push({ name: `${p}ffn_up.weight`, ne: [cfg.nEmbd, cfg.nFf], data: rand(cfg.nEmbd * cfg.nFf, s) });
    tensors.push({
      name: `${p}ffn_down.weight`,
      ne: [cfg.nFf, cfg.nEmbd],
      data: rand(cfg.nFf * cfg.nEmbd, 1 / Math.sqrt(cfg.nFf)),
    });
  }
  tensors.push({ name: 'output_norm.weight', ne: [cfg.nEmbd], data: ones(cfg.nEmbd) });
  // Output projection: random rows for emittable tokens, zero rows for everything else.
  const out = new Float32Array(cfg.nEmbd * nVocab);
  for (let t = 0; t < nVocab; t++) {
    if (!vocab.emittable.has(t)) continue;
    for (let i = 0; i < cfg.nEmbd; i++) out[t * cfg.nEmbd + i] = gauss() * 0.5;
  }
  tensors.push({ name: 'output.weight', ne: [cfg.nEmbd, nVocab], data: out });

  const kv: [string, KvValue][] = [
    ['general.architecture', { type: 'str', value: 'llama' }],
    ['general.name', { type: 'str', value: cfg.name }],
    ['general.file_type', { type: 'u32', value: 0 }], // ALL_F32
    ['general.alignment', { type: 'u32', value: ALIGNMENT }],
    ['llama.context_length', { type: 'u32', value: cfg.contextLength }],
    ['llama.embedding_length', { type: 'u32', value: cfg.nEmbd }],
    ['llama.block_count', { type: 'u32', value: cfg.nLayer }],
    ['llama.feed_forward_length', { type: 'u32', value: cfg.nFf }],
    ['llama.attention.head_count', { type: 'u32', value: cfg.nHead }],
    ['llama.attention.head_count_kv', { type: 'u32', value: cfg.nHeadKv }],
    ['llama.attention.layer_norm_rms_epsilon', { type: 'f32', value: 1e-5 }],
    ['llama.rope.dimension_count', { type: 'u32', value: headDim }],
    ['llama.rope.freq_base', { type: 'f32', value: 10000 }],
    ['llama.vocab_size', { type: 'u32', value: nVocab }],
    ['tokenizer.ggml.model', { type: 'str', value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: 'arr_str', value: vocab.tokens }],
    ['tokenizer.ggml.scores', { type: 'arr_f32', value: vocab.scores }],
    ['tokenizer.ggml.token_type', { type: 'arr_i32', value: vocab.types }],
    ['tokenizer.ggml.unknown_token_id', { type: 'u32', value: 0 }],
    ['tokenizer.ggml.bos_token_id', { type: 'u32', value: 1 }],
    ['tokenizer.ggml.eos_token_id', { type: 'u32', value: 2 }],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
    ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }],
  ];

  const w = new ByteWriter();
  w.bytes(Buffer.from('GGUF', 'ascii'));
  w.u32(3); // GGUF version
  w.u64(tensors.length);
  w.u64(kv.length);
  for (const [key, v] of kv) {
    w.str(key);
    switch (v.type) {
      case 'u32':
        w.u32(T_UINT32);
        w.u32(v.value);
        break;
      case 'f32':
        w.u32(T_FLOAT32);
        w.f32(v.value);
        break;
      case 'bool':
        w.u32(T_BOOL);
        w.u8(v.value ? 1 : 0);
        break;
      case 'str':
        w.u32(T_STRING);
        w.str(v.value);
        break;
      case 'arr_str':
        w.u32(T_ARRAY);
        w.u32(T_STRING);
        w.u64(v.value.length);
        for (const s of v.value) w.str(s);
        break;
      case 'arr_f32':
        w.u32(T_ARRAY);
        w.u32(T_FLOAT32);
        w.u64(v.value.length);
        for (const x of v.value) w.f32(x);
        break;
      case 'arr_i32':
        w.u32(T_ARRAY);
        w.u32(T_INT32);
        w.u64(v.value.length);
        for (const x of v.value) w.i32(x);
        break;
    }
  }
  let offset = 0;
  for (const t of tensors) {
    const expected = t.ne.reduce((a, b) => a * b, 1);
    if (expected !== t.data.length) throw new Error(`tensor ${t.name}: size mismatch`);
    w.str(t.name);
    w.u32(t.ne.length);
    for (const d of t.ne) w.u64(d);
    w.u32(GGML_F32);
    w.u64(offset);
    offset += Math.ceil(t.data.byteLength / ALIGNMENT) * ALIGNMENT;
  }
  w.padTo(ALIGNMENT);
  for (const t of tensors) {
    w.bytes(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    w.padTo(ALIGNMENT);
  }
  return w.toBuffer();
}

/** Cache directory for the generated model (override with OPENBATCH_TINY_MODEL_DIR). */
export function defaultModelDir(): string {
  return process.env.OPENBATCH_TINY_MODEL_DIR ?? path.join(os.tmpdir(), 'openbatch-tiny-model');
}

/**
 * Returns the path of the tiny GGUF model, generating it if missing.
 * Safe against concurrent callers (write to a unique temp file, then atomic rename).
 */
export async function ensureTinyModel(dir: string = defaultModelDir()): Promise<string> {
  const cfgHash = createHash('sha256').update(JSON.stringify(TINY_MODEL_CONFIG)).digest('hex').slice(0, 12);
  const file = path.join(dir, `${TINY_MODEL_CONFIG.name}-${cfgHash}.gguf`);
  try {
    const st = await stat(file);
    if (st.size > 0) return file;
  } catch {
    // missing: generate below
  }
  await mkdir(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(buildTinyLlamaGguf());
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  return file;
}

// CLI: `npx tsx tiny-gguf.ts [dir]` generates (if missing) and prints the model path.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await ensureTinyModel(process.argv[2]));
}
