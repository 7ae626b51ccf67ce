/**
 * Test fixture: a REAL model server (llama.cpp via node-llama-cpp, CPU only) serving a tiny
 * generated Llama GGUF model behind an OpenAI-compatible HTTP API on 127.0.0.1.
 *
 * Endpoints:
 *   POST /v1/chat/completions   POST /v1/completions   POST /v1/embeddings
 *   GET  /v1/models             GET  /health
 *
 * Every generation is a real llama.cpp forward pass over a real (random-weight) model, so
 * the text is gibberish but token counts, max_tokens, stop strings, context-length limits and
 * latency behave like a real engine. Greedy decoding (temperature 0) is the default, so the
 * same request always yields the same output.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  getLlama,
  type Llama,
  LlamaCompletion,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaEmbeddingContext,
  LlamaLogLevel,
  type LlamaModel,
  type Token,
} from 'node-llama-cpp';
import { ensureTinyModel, TINY_MODEL_CONFIG } from './tiny-gguf.js';

export interface RealModelServerOptions {
  /** Port to listen on (default 0 = any free port). Always binds 127.0.0.1. */
  port?: number;
  /** Where the generated GGUF is cached (default $OPENBATCH_TINY_MODEL_DIR or <tmpdir>/openbatch-tiny-model). */
  modelDir?: string;
  /** max_tokens used when a request gives none (default 16). */
  defaultMaxTokens?: number;
  /** Context window in tokens (default 2048). prompt + max_tokens beyond it is a 400, as in vLLM. */
  contextSize?: number;
  /** Model id reported by GET /v1/models (requests may name any model; it is echoed back). */
  modelId?: string;
}

export interface RealModelServer {
  /** Origin, e.g. "http://127.0.0.1:41234" (no trailing slash, no /v1). */
  url: string;
  /** `${url}/v1`, what an OpenAI SDK calls baseURL. */
  baseURL: string;
  /** Model id served by GET /v1/models. */
  modelId: string;
  /** Path of the GGUF file being served. */
  modelPath: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const MAX_N = 8;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

const bad = (message: string, param: string | null = null): HttpError =>
  new HttpError(400, message, 'invalid_request_error', param);

/** Serialises all engine work (one sequence, one embedding context, 2-core machine). */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface SamplingParams {
  maxTokens: number;
  temperature: number;
  topP: number | undefined;
  seed: number | undefined;
  stop: string[];
  n: number;
}

interface GenerationResult {
  text: string;
  completionTokens: number;
  finishReason: 'stop' | 'length';
}

export async function startRealModelServer(opts: RealModelServerOptions = {}): Promise<RealModelServer> {
  const defaultMaxTokens = opts.defaultMaxTokens ?? 16;
  const contextSize = opts.contextSize ?? 2048;
  const modelId = opts.modelId ?? TINY_MODEL_CONFIG.name;
  const embeddingContextSize = Math.min(contextSize, 512);

  const modelPath = await ensureTinyModel(opts.modelDir);

  // gpu:false + build:"never": use the prebuilt CPU binary from @node-llama-cpp/linux-x64,
  // never try to download or compile anything.
  const llama: Llama = await getLlama({
    gpu: false,
    build: 'never',
    progressLogs: false,
    logLevel: LlamaLogLevel.error,
  });
  let model: LlamaModel | undefined;
  let context: LlamaContext | undefined;
  let embeddingContext: LlamaEmbeddingContext | undefined;
  try {
    model = await llama.loadModel({ modelPath, gpuLayers: 0 });
    // threads: 1 matters: with >1 thread on a 2-core box llama.cpp's thread sync makes a
    // 16-token generation take ~150 ms-4 s instead of ~10 ms.
    context = await model.createContext({ contextSize, threads: 1, sequences: 1 });
    embeddingContext = await model.createEmbeddingContext({ contextSize: embeddingContextSize, threads: 1 });
  } catch (err) {
    await embeddingContext?.dispose();
    await context?.dispose();
    await model?.dispose();
    await llama.dispose();
    throw err;
  }
  const loadedModel = model;
  const sequence: LlamaContextSequence = context.getSequence();
  const completion = new LlamaCompletion({ contextSequence: sequence });
  const embedder = embeddingContext;
  const engine = new Mutex();
  const prependsBos = loadedModel.tokens.shouldPrependBosToken && loadedModel.tokens.bos != null;
  const vocabSize = loadedModel.fileInfo.metadata.tokenizer.ggml.tokens.length;

  const tokenize = (text: string): Token[] => loadedModel.tokenize(text, false, 'trimLeadingSpace');
  /** Tokens llama.cpp will actually evaluate for this prompt (BOS included). */
  const promptTokenCount = (tokens: readonly Token[]): number => tokens.length + (prependsBos ? 1 : 0);

  function checkFits(promptTokens: number, maxTokens: number, param: 'messages' | 'prompt'): void {
    if (promptTokens + maxTokens > contextSize) {
      throw bad(
        `This model's maximum context length is ${contextSize} tokens. However, you requested ` +
          `${promptTokens + maxTokens} tokens (${promptTokens} in the messages, ${maxTokens} in the completion). ` +
          'Please reduce the length of the messages or completion.',
        param,
      );
    }
  }

  async function generate(
    input: Token[],
    p: SamplingParams,
    index: number,
    signal: AbortSignal,
  ): Promise<GenerationResult> {
    return engine.run(async () => {
      sequence.clearHistory();
      let completionTokens = 0;
      const seed = p.seed === undefined ? undefined : p.seed + index;
      const res = await completion.generateCompletionWithMeta(input, {
        maxTokens: p.maxTokens,
        temperature: p.temperature,
        ...(p.topP !== undefined ? { topP: p.topP } : {}),
        ...(seed !== undefined ? { seed } : {}),
        ...(p.stop.length > 0 ? { customStopTriggers: p.stop } : {}),
        signal,
        onToken: (tokens) => {
          completionTokens += tokens.length;
        },
      });
      const stopped =
        res.metadata.stopReason === 'customStopTrigger' || res.metadata.stopReason === 'eogToken';
      return { text: res.response, completionTokens, finishReason: stopped ? 'stop' : 'length' };
    });
  }

  function parseSampling(body: JsonObject, maxTokensKeys: readonly string[]): SamplingParams {
    let maxTokens = defaultMaxTokens;
    for (const key of maxTokensKeys) {
      const v = body[key];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
        throw bad(`'${key}' must be a positive integer`, key);
      }
      maxTokens = v;
      break;
    }
    const temperature = body.temperature ?? 0;
    if (typeof temperature !== 'number' || temperature < 0 || temperature > 2) {
      throw bad("'temperature' must be a number between 0 and 2", 'temperature');
    }
    const topP = body.top_p ?? undefined;
    if (topP !== undefined && (typeof topP !== 'number' || topP <= 0 || topP > 1)) {
      throw bad("'top_p' must be a number in (0, 1]", 'top_p');
    }
    const seed = body.seed ?? undefined;
    if (seed !== undefined && (typeof seed !== 'number' || !Number.isInteger(seed))) {
      throw bad("'seed' must be an integer", 'seed');
    }
    const stopRaw = body.stop ?? [];
    const stop = typeof stopRaw === 'string' ? [stopRaw] : stopRaw;
    if (
      !Array.isArray(stop) ||
      stop.length > 4 ||
      !stop.every((s) => typeof s === 'string' && s.length > 0)
    ) {
      throw bad("'stop' must be a non-empty string or an array of at most 4 non-empty strings", 'stop');
    }
    const n = body.n ?? 1;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_N) {
      throw bad(`'n' must be an integer between 1 and ${MAX_N}`, 'n');
    }
    if (body.stream === true) throw bad("'stream' is not supported by this server", 'stream');
    return { maxTokens, temperature, topP, seed, stop: stop as string[], n };
  }

  function requireModel(body: JsonObject): string {
    if (typeof body.model !== 'string' || body.model.length === 0) {
      throw bad('you must provide a model parameter', 'model');
    }
    return body.model;
  }

  function messageContentToText(content: Json | undefined, i: number): string {
    if (content === null || content === undefined) return '';
    if (typeof content === 'string') return content;
    if (Array.isArray(content)) {
      return content
        .map((part, j) => {
          if (!isObject(part) || part.type !== 'text' || typeof part.text !== 'string') {
            throw bad(
              `messages[${i}].content[${j}] must be a text part ({"type":"text","text":...})`,
              `messages[${i}].content`,
            );
          }
          return part.text;
        })
        .join('');
    }
    throw bad(`messages[${i}].content must be a string or an array of text parts`, `messages[${i}].content`);
  }

  const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

  async function chatCompletions(body: JsonObject, signal: AbortSignal): Promise<JsonObject> {
    const model = requireModel(body);
    const messages = body.messages;
    if (!Array.isArray(messages) || messages.length === 0) {
      throw bad("'messages' must be a non-empty array", 'messages');
    }
    let prompt = '';
    messages.forEach((m, i) => {
      if (!isObject(m)) throw bad(`messages[${i}] must be an object`, 'messages');
      if (typeof m.role !== 'string' || !ROLES.has(m.role)) {
        throw bad(`messages[${i}].role must be one of ${[...ROLES].join(', ')}`, `messages[${i}].role`);
      }
      prompt += `${m.role}: ${messageContentToText(m.content, i)}\n`;
    });
    prompt += 'assistant:';
    const p = parseSampling(body, ['max_completion_tokens', 'max_tokens']);
    const tokens = tokenize(prompt);
    const promptTokens = promptTokenCount(tokens);
    checkFits(promptTokens, p.maxTokens, 'messages');
    const choices: JsonObject[] = [];
    let completionTokens = 0;
    for (let i = 0; i < p.n; i++) {
      const r = await generate(tokens, p, i, signal);
      completionTokens += r.completionTokens;
      choices.push({
        index: i,
        message: { role: 'assistant', content: r.text, refusal: null },
        logprobs: null,
        finish_reason: r.finishReason,
      });
    }
    return {
      id: `chatcmpl-${randomBytes(12).toString('hex')}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices,
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
      system_fingerprint: `fp_${TINY_MODEL_CONFIG.name}`,
    };
  }

  function parsePrompts(raw: Json | undefined, param: string): Token[][] {
    const checkTokens = (arr: Json[]): Token[] => {
      if (!arr.every((t) => typeof t === 'number' && Number.isInteger(t) && t >= 0 && t < vocabSize)) {
        throw bad(`'${param}' token ids must be integers in [0, ${vocabSize})`, param);
      }
      return arr as Token[];
    };
    if (typeof raw === 'string') return [tokenize(raw)];
    if (Array.isArray(raw) && raw.length > 0) {
      if (raw.every((x) => typeof x === 'string')) return (raw as string[]).map(tokenize);
      if (raw.every((x) => typeof x === 'number')) return [checkTokens(raw)];
      if (raw.every((x) => Array.isArray(x) && x.length > 0)) return (raw as Json[][]).map(checkTokens);
    }
    throw bad(
      `'${param}' must be a string, an array of strings, an array of token ids or an array of token-id arrays`,
      param,
    );
  }

  async function completions(body: JsonObject, signal: AbortSignal): Promise<JsonObject> {
    const model = requireModel(body);
    const prompts = parsePrompts(body.prompt, 'prompt');
    const p = parseSampling(body, ['max_tokens']);
    if (body.echo === true) throw bad("'echo' is not supported by this server", 'echo');
    const promptCounts = prompts.map(promptTokenCount);
    for (const c of promptCounts) checkFits(c, p.maxTokens, 'prompt');
    const choices: JsonObject[] = [];
    let promptTokens = 0;
    let completionTokens = 0;
    for (const [pi, tokens] of prompts.entries()) {
      promptTokens += promptCounts[pi] ?? 0;
      for (let i = 0; i < p.n; i++) {
        const r = await generate(tokens, p, i, signal);
        completionTokens += r.completionTokens;
        choices.push({ index: pi * p.n + i, text: r.text, logprobs: null, finish_reason: r.finishReason });
      }
    }
    return {
      id: `cmpl-${randomBytes(12).toString('hex')}`,
      object: 'text_completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices,
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
      system_fingerprint: `fp_${TINY_MODEL_CONFIG.name}`,
    };
  }

  async function embeddings(body: JsonObject): Promise<JsonObject> {
    const model = requireModel(body);
    const inputs = parsePrompts(body.input, 'input');
    const format = body.encoding_format ?? 'float';
    if (format !== 'float' && format !== 'base64') {
      throw bad("'encoding_format' must be 'float' or 'base64'", 'encoding_format');
    }
    const maxEmbedTokens = embeddingContextSize;
    const data: JsonObject[] = [];
    let promptTokens = 0;
    for (const [index, tokens] of inputs.entries()) {
      if (tokens.length === 0) throw bad(`input[${index}] must not be empty`, 'input');
      const count = promptTokenCount(tokens);
      if (count > maxEmbedTokens) {
        throw bad(
          `input[${index}] is ${count} tokens; the maximum for embeddings is ${maxEmbedTokens}`,
          'input',
        );
      }
      promptTokens += count;
      const emb = await engine.run(() => embedder.getEmbeddingFor(tokens));
      // OpenAI embeddings are unit-length; llama.cpp's raw pooled output is not.
      const norm = Math.hypot(...emb.vector) || 1;
      const vec = emb.vector.map((x) => x / norm);
      const embedding =
        format === 'base64' ? Buffer.from(new Float32Array(vec).buffer).toString('base64') : vec;
      data.push({ object: 'embedding', index, embedding });
    }
    return {
      object: 'list',
      data,
      model,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    };
  }

  const modelsList = (): JsonObject => ({
    object: 'list',
    data: [{ id: modelId, object: 'model', created: 0, owned_by: 'openbatch-test' }],
  });

  async function readJsonBody(req: http.IncomingMessage): Promise<JsonObject> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      const b = chunk as Buffer;
      size += b.length;
      if (size > MAX_BODY_BYTES) throw new HttpError(413, `Request body exceeds ${MAX_BODY_BYTES} bytes`);
      chunks.push(b);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw bad(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
      );
    }
    if (!isObject(parsed)) throw bad('The request body must be a JSON object');
    return parsed;
  }

  function send(res: http.ServerResponse, status: number, body: Json): void {
    if (res.writableEnded || res.destroyed) return;
    const payload = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
    });
    res.end(payload);
  }

  function sendError(res: http.ServerResponse, err: HttpError): void {
    send(res, err.status, {
      error: { message: err.message, type: err.type, param: err.param, code: err.code },
    });
  }

  const routes: Record<string, (body: JsonObject, signal: AbortSignal) => Promise<JsonObject>> = {
    '/v1/chat/completions': chatCompletions,
    '/v1/completions': completions,
    '/v1/embeddings': (body) => embeddings(body),
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname.replace(/\/+$/, '') || '/';
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort(new Error('client disconnected'));
    });
    try {
      if (pathname === '/health') {
        if (req.method !== 'GET') throw new HttpError(405, `Method ${req.method} not allowed`);
        return send(res, 200, { status: 'ok' });
      }
      if (pathname === '/v1/models') {
        if (req.method !== 'GET') throw new HttpError(405, `Method ${req.method} not allowed`);
        return send(res, 200, modelsList());
      }
      const route = routes[pathname];
      if (!route)
        throw new HttpError(
          404,
          `Unknown request URL: ${req.method} ${pathname}`,
          'invalid_request_error',
          null,
          'unknown_url',
        );
      if (req.method !== 'POST') throw new HttpError(405, `Method ${req.method} not allowed on ${pathname}`);
      const body = await readJsonBody(req);
      send(res, 200, await route(body, controller.signal));
    } catch (err) {
      if (controller.signal.aborted) return; // client went away; nobody to answer
      if (err instanceof HttpError) return sendError(res, err);
      sendError(res, new HttpError(500, err instanceof Error ? err.message : String(err), 'server_error'));
    }
  }

  const srv = http.createServer((req, res) => {
    void handle(req, res);
  });
  const ctx = context;
  const disposeEngine = async (): Promise<void> => {
    // Let any in-flight generation finish before freeing native memory.
    await engine.run(async () => undefined);
    completion.dispose();
    await embedder.dispose();
    await ctx.dispose();
    await loadedModel.dispose();
    await llama.dispose();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(opts.port ?? 0, '127.0.0.1', () => {
        srv.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await disposeEngine();
    throw err; // e.g. EADDRINUSE for an explicit port
  }
  const { port } = srv.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    baseURL: `${url}/v1`,
    modelId,
    modelPath,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          srv.close(() => resolve());
          srv.closeAllConnections();
        });
        await disposeEngine();
      })();
      return closing;
    },
  };
}
