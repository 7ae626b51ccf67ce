import { parseArgs } from 'node:util';
import { MIN_PART_SIZE, MiB } from './part-planner.js';

export const DEFAULT_BASE_URL = 'http://127.0.0.1:8080/v1';
export const DEFAULT_PART_SIZE_MIB = 16;
export const DEFAULT_PARALLEL = 4;

export const USAGE = `Usage: openbatch upload FILE [options]

Uploads FILE with the Uploads API, its parts PUT straight to S3 (pre-signed URLs), in parallel,
retried, and resumable: run the same command again after an interruption to send only the rest.
Prints the File id (or, with --json, the File object).

Options:
  --purpose PURPOSE     file purpose (default: batch)
  --mime-type TYPE      MIME type (default: application/jsonl)
  --part-size MIB       part size in MiB, at least ${MIN_PART_SIZE / MiB} (default: ${DEFAULT_PART_SIZE_MIB})
  --parallel N          parts sent at once (default: ${DEFAULT_PARALLEL})
  --base-url URL        API base URL (default: $OPENAI_BASE_URL or ${DEFAULT_BASE_URL})
  --api-key KEY         API key (default: $OPENAI_API_KEY or $OPENBATCH_API_KEY)
  --json                print the File object as JSON
  -h, --help            this help

State for resuming is kept in ~/.openbatch/uploads (or $OPENBATCH_STATE_DIR).`;

export class UsageError extends Error {}

export interface UploadCommand {
  command: 'upload';
  file: string;
  purpose: string;
  mimeType: string;
  /** Bytes. */
  partSize: number;
  /** Whether --part-size was given (a resume keeps the recorded part size otherwise). */
  partSizeGiven: boolean;
  parallel: number;
  baseUrl: string;
  apiKey: string;
  json: boolean;
  stateDir: string | undefined;
}

export type Command = UploadCommand | { command: 'help' };

function positiveInt(name: string, raw: string, min = 1): number {
  if (!/^\d+$/.test(raw) || Number(raw) < min)
    throw new UsageError(`--${name} must be a whole number ≥ ${min}.`);
  return Number(raw);
}

/** `openbatch …` arguments and environment → what to do. Throws UsageError on a bad command line. */
export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Command {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) return { command: 'help' };
  const [command, ...rest] = positionals;
  if (command !== 'upload') throw new UsageError(`Unknown command '${command}'.`);
  if (rest.length !== 1) throw new UsageError('upload takes exactly one FILE.');
  const partSizeMiB = positiveInt('part-size', values['part-size'] ?? String(DEFAULT_PART_SIZE_MIB));
  if (partSizeMiB * MiB < MIN_PART_SIZE)
    throw new UsageError(`--part-size must be at least ${MIN_PART_SIZE / MiB} MiB (S3's minimum part).`);
  const apiKey = values['api-key'] ?? env.OPENAI_API_KEY ?? env.OPENBATCH_API_KEY;
  if (!apiKey) throw new UsageError('No API key: pass --api-key or set OPENAI_API_KEY.');
  const baseUrl = (values['base-url'] ?? env.OPENAI_BASE_URL ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(baseUrl)) throw new UsageError(`--base-url must be an http(s) URL: ${baseUrl}`);
  return {
    command: 'upload',
    file: rest[0] as string,
    purpose: values.purpose ?? 'batch',
    mimeType: values['mime-type'] ?? 'application/jsonl',
    partSize: partSizeMiB * MiB,
    partSizeGiven: values['part-size'] !== undefined,
    parallel: positiveInt('parallel', values.parallel ?? String(DEFAULT_PARALLEL)),
    baseUrl,
    apiKey,
    json: values.json ?? false,
    stateDir: env.OPENBATCH_STATE_DIR || undefined,
  };
}

const parse = (argv: readonly string[]) =>
  parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      purpose: { type: 'string' },
      'mime-type': { type: 'string' },
      'part-size': { type: 'string' },
      parallel: { type: 'string' },
      'base-url': { type: 'string' },
      'api-key': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
