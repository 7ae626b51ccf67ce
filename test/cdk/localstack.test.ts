import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { environments } from '../../cdk/config.js';
import {
  type BucketName,
  buckets,
  physicalName,
  queues,
  type TableName,
  tables,
  workerPools,
  workerUses,
} from '../../core/app/declaration.js';
import { workerSchema } from '../../core/config.js';
import { root, synth } from './support.js';

/**
 * The LocalStack path: compose runs LocalStack and the workers, cdklocal deploys the stacks
 * LocalStack's edition runs. Docker is not available here, so the compose file is checked
 * against the declaration and the app is synthesized for the localstack target.
 */
type Service = {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  stop_grace_period?: string;
  depends_on?: Record<string, { condition: string }>;
  profiles?: string[];
};
const compose = parse(readFileSync(resolve(root, 'localstack/compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const account = '000000000000';
const { prefix, region } = environments.dev;
const queueUrl = (q: string) => `http://localstack:4566/${account}/${physicalName(prefix, q)}`;

describe('localstack/compose.yaml', () => {
  it('runs LocalStack with a health check, the Docker socket for Lambda, and the auth token from the environment', () => {
    const ls = compose.services.localstack as Service & { volumes: string[]; healthcheck: unknown };
    expect(ls.image).toMatch(/^localstack\/localstack:/);
    expect(ls.volumes).toContain('/var/run/docker.sock:/var/run/docker.sock');
    expect(ls.environment?.LOCALSTACK_AUTH_TOKEN).toMatch(/^\$\{LOCALSTACK_AUTH_TOKEN:\?/);
    expect(ls.environment?.LAMBDA_IGNORE_ARCHITECTURE).toBe('1');
    expect(ls.healthcheck).toBeDefined();
  });

  it.each(Object.keys(workerPools))('runs a %s worker built from gpu-worker/Dockerfile', (pool) => {
    const w = compose.services[`worker-${pool}`] as Service;
    expect(w.build).toEqual({ context: '..', dockerfile: 'gpu-worker/Dockerfile' });
    expect(w.depends_on).toEqual({ localstack: { condition: 'service_healthy' } });
    expect(w.stop_grace_period).toBe('120s');
  });

  it.each(Object.entries(workerPools))(
    'configures the %s worker with the names the CDK app deploys',
    (pool, decl) => {
      const env = (compose.services[`worker-${pool}`] as Service).environment ?? {};
      expect(env.POOL).toBe(pool);
      expect(env.QUEUE_URL).toBe(queueUrl(decl.queue));
      expect(env.AWS_ENDPOINT_URL).toBe('http://localstack:4566');
      for (const b of Object.keys(workerUses.buckets ?? {}) as BucketName[])
        expect(env[buckets[b].env]).toBe(`${physicalName(prefix, b)}-${account}-${region}`);
      for (const t of Object.keys(workerUses.tables ?? {}) as TableName[])
        expect(env[tables[t].env]).toBe(physicalName(prefix, t));
      for (const q of workerUses.queues ?? []) expect(env[queues[q].env]).toBe(queueUrl(q));
      expect(env.VISIBILITY_TIMEOUT_SECONDS).toBe(String(queues[decl.queue].visibilityTimeoutSeconds));
      // The worker's own configuration schema accepts it.
      expect(() => workerSchema.parse(env)).not.toThrow();
    },
  );
});

describe('the localstack target', () => {
  const { app } = synth({ env: 'dev', target: 'localstack' });
  const stackNames = app.node.children.map((c) => c.node.id).sort();

  it('deploys data, api and monitoring; the compose workers replace compute, the local runtime the portal', () => {
    expect(stackNames).toEqual(['openbatch-dev-api', 'openbatch-dev-data', 'openbatch-dev-monitoring']);
  });

  it('is what localstack/deploy.sh deploys, with cdklocal', () => {
    const script = readFileSync(resolve(root, 'localstack/deploy.sh'), 'utf8');
    expect(script).toContain('context=(-c env=dev -c target=localstack)');
    expect(script).toMatch(/npx cdklocal bootstrap aws:\/\/000000000000\/us-east-1/);
    expect(script).toMatch(/npx cdklocal deploy --all "\$\{context\[@\]\}"/);
    expect(script).toContain('--profile workers up -d --build');
    expect(script).toContain('cdk/bin/issue-api-key.ts --env dev');
    expect(JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')).devDependencies).toHaveProperty(
      'aws-cdk-local',
    );
  });
});
