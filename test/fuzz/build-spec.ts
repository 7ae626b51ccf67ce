/**
 * Builds the spec that schemathesis fuzzes openbatch with: the Files, Uploads and Batches paths
 * of OpenAI's published OpenAPI document and the schemas they reach, with the fields OpenAI
 * itself answers `null` for marked nullable (the document leaves them plain strings and
 * integers, yet OpenAI's own responses carry nulls there, as the SDKs' types do).
 *
 *   npx tsx test/fuzz/build-spec.ts [path/to/openai-openapi.yaml]
 *
 * writes test/fuzz/openai-batch-api.generated.yaml. The fuzz test checks that the committed file
 * is what this script makes from the source, where the source is at hand.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
export const GENERATED_SPEC = resolve(here, 'openai-batch-api.generated.yaml');

/** Where OpenAI's document is found: OPENAI_OPENAPI_SPEC, or the shared folder beside the repository. */
export function sourceSpecPath(): string | undefined {
  const candidates = [
    process.env.OPENAI_OPENAPI_SPEC,
    resolve(here, '../../shared/openai-openapi.yaml'),
    resolve(here, '../../../shared/openai-openapi.yaml'),
  ];
  return candidates.find((p): p is string => p !== undefined && existsSync(p));
}

/** The paths openbatch implements (DESIGN.md §3), as OpenAI's document names them (under /v1). */
const PATHS = [
  '/files',
  '/files/{file_id}',
  '/files/{file_id}/content',
  '/uploads',
  '/uploads/{upload_id}/parts',
  '/uploads/{upload_id}/complete',
  '/uploads/{upload_id}/cancel',
  '/batches',
  '/batches/{batch_id}',
  '/batches/{batch_id}/cancel',
];

/**
 * Fields OpenAI answers `null` for, typed without null in the document. Batch: every timestamp
 * a batch has not reached yet, its result files before it has them, `errors` when there are
 * none. File: `expires_at` for a file that does not expire, the deprecated `status_details`.
 * Lists: `first_id`/`last_id` of an empty page.
 */
const NULLABLE: Record<string, string[]> = {
  Batch: [
    'errors',
    'output_file_id',
    'error_file_id',
    'in_progress_at',
    'expires_at',
    'finalizing_at',
    'completed_at',
    'failed_at',
    'expired_at',
    'cancelling_at',
    'cancelled_at',
  ],
  OpenAIFile: ['expires_at', 'status_details'],
  ListFilesResponse: ['first_id', 'last_id'],
  ListBatchesResponse: ['first_id', 'last_id'],
};

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `type: X` becomes `type: [X, 'null']` (OpenAPI 3.1 has no `nullable`). */
function makeNullable(schema: Json, where: string): void {
  const type = schema.type;
  if (typeof type === 'string') schema.type = [type, 'null'];
  else if (Array.isArray(type)) {
    if (!type.includes('null')) type.push('null');
  } else throw new Error(`${where} has no type to make nullable`);
}

export function buildSpec(source: string): string {
  const spec = parse(source) as Json;
  const allPaths = spec.paths as Json;
  const schemas = (spec.components as Json).schemas as Json;

  const paths: Json = {};
  for (const p of PATHS) {
    const item = allPaths[p];
    if (!isObject(item)) throw new Error(`OpenAI's document has no path ${p}`);
    paths[p] = structuredClone(item);
  }

  // Everything the paths reach, and nothing else.
  const reached = new Map<string, Json>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    if (!isObject(node)) return;
    delete node['x-oaiMeta'];
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') {
        const name = v.replace('#/components/schemas/', '');
        if (!reached.has(name)) {
          const schema = structuredClone(schemas[name]);
          if (!isObject(schema)) throw new Error(`OpenAI's document has no schema ${name}`);
          reached.set(name, schema);
          walk(schema);
        }
      } else walk(v);
    }
  };
  walk(paths);

  for (const [name, fields] of Object.entries(NULLABLE)) {
    const props = reached.get(name)?.properties;
    if (!isObject(props)) throw new Error(`schema ${name} is not reached or has no properties`);
    for (const field of fields) {
      const prop = props[field];
      if (!isObject(prop)) throw new Error(`${name}.${field} is not in OpenAI's document`);
      makeNullable(prop, `${name}.${field}`);
    }
  }

  // Upload.file: `allOf: [OpenAIFile, {nullable: true}]` is OpenAPI 3.0's idiom, which 3.1 ignores.
  const uploadProps = reached.get('Upload')?.properties;
  if (isObject(uploadProps) && isObject(uploadProps.file)) {
    uploadProps.file = {
      anyOf: [{ $ref: '#/components/schemas/OpenAIFile' }, { type: 'null' }],
      description: 'The ready File object after the Upload is completed.',
    };
  }

  // Metadata's limits are in its description only ("16 key-value pairs", keys of at most 64
  // characters, values of at most 512): written as schema, so generated metadata is mostly valid.
  const metadata = (reached.get('Metadata')?.anyOf as Json[] | undefined)?.find((s) => s.type === 'object');
  if (!metadata) throw new Error('Metadata has no object variant');
  Object.assign(metadata, {
    maxProperties: 16,
    propertyNames: { minLength: 1, maxLength: 64 },
    additionalProperties: { type: 'string', maxLength: 512 },
  });

  // Spec quirk: file content is documented as a JSON string; OpenAI (and openbatch) answer the
  // file's bytes as application/octet-stream, which is what the SDKs read.
  const content = ((paths['/files/{file_id}/content'] as Json).get as Json).responses as Json;
  (content['200'] as Json).content = {
    'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
  };

  const out = {
    openapi: spec.openapi,
    info: {
      title: 'OpenAI Files, Uploads and Batches (openbatch fuzzing subset)',
      description:
        "Generated by test/fuzz/build-spec.ts from OpenAI's published OpenAPI document (MIT); do not edit.",
      version: (spec.info as Json).version,
    },
    servers: [{ url: 'http://localhost/v1' }],
    security: [{ ApiKeyAuth: [] }],
    paths,
    components: {
      schemas: Object.fromEntries([...reached.entries()].sort(([x], [y]) => x.localeCompare(y))),
      securitySchemes: { ApiKeyAuth: { type: 'http', scheme: 'bearer' } },
    },
  };
  return `# Generated by test/fuzz/build-spec.ts; do not edit.\n${stringify(out, { lineWidth: 0 })}`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const from = process.argv[2] ?? sourceSpecPath();
  if (!from) throw new Error("OpenAI's OpenAPI document not found: pass its path or set OPENAI_OPENAPI_SPEC");
  writeFileSync(GENERATED_SPEC, buildSpec(readFileSync(from, 'utf8')));
  console.log(`wrote ${GENERATED_SPEC}`);
}
