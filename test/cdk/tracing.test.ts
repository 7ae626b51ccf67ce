import type { Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configProblems, environments } from '../../cdk/config.js';
import { tracedAnnotations } from '../../cdk/lib/constructs/worker-pool.js';
import { functions } from '../../core/app/declaration.js';
import { ANNOTATION_KEYS } from '../../core/observability/tracing.js';
import { configWith, onlyResource, resourcesOf, synth } from './support.js';

/**
 * Issue 13, point 3: tracing across API → scheduler → worker → finalizer. Pins what the templates
 * must say for it; what X-Ray then does with them is verified only by synthesis
 * (docs/observability.md, "Tracing").
 */
const { stacks, template } = synth({ env: 'prod' });
const api = template(stacks.api);
const compute = template(stacks.compute as Stack);

type Container = {
  Name: string;
  Image: unknown;
  Essential: boolean;
  Environment?: { Name: string; Value: string }[];
  Links?: string[];
  DependsOn?: { ContainerName: string; Condition: string }[];
  PortMappings?: unknown[];
};
const env = (c: Container | undefined) =>
  Object.fromEntries((c?.Environment ?? []).map((e) => [e.Name, e.Value]));
type Statement = { Action: string | string[]; Resource: unknown };
const statementsOf = (t: typeof api, role: string): Statement[] =>
  Object.values(resourcesOf(t, 'AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties?.Roles).includes(`"${role}"`))
    .flatMap(
      (p) => (p.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [],
    );
const roleOf = (arn: unknown) => (arn as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];

const openbatchFunctions = () =>
  Object.values(resourcesOf(api, 'AWS::Lambda::Function')).filter((f) =>
    JSON.stringify(f.Properties?.FunctionName ?? '').includes('openbatch-prod-'),
  );

describe('functions and API', () => {
  it('every function has X-Ray active tracing and OPENBATCH_TRACING=xray', () => {
    const fns = openbatchFunctions();
    expect(fns).toHaveLength(Object.keys(functions).length);
    for (const f of fns) {
      expect(f.Properties?.TracingConfig).toEqual({ Mode: 'Active' });
      const variables = (f.Properties?.Environment as { Variables?: Record<string, string> } | undefined)
        ?.Variables;
      expect(variables?.OPENBATCH_TRACING).toBe('xray');
    }
  });

  it('every function role may write trace segments', () => {
    for (const f of openbatchFunctions()) {
      const actions = statementsOf(api, roleOf(f.Properties?.Role)).flatMap((s) =>
        Array.isArray(s.Action) ? s.Action : [s.Action],
      );
      expect(actions).toEqual(expect.arrayContaining(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']));
    }
  });

  it('the API stage traces requests (API Gateway starts the trace the function continues)', () => {
    api.hasResourceProperties('AWS::ApiGateway::Stage', { StageName: 'prod', TracingEnabled: true });
  });
});

describe('worker task: the ADOT collector beside the worker', () => {
  const taskOf = (t: typeof api, pool: string) =>
    onlyResource(t, 'AWS::ECS::TaskDefinition', (p) => p.Family === `openbatch-prod-${pool}-workers`).props;
  const containersOf = (t: typeof api, pool: string) => taskOf(t, pool).ContainerDefinitions as Container[];

  it.each(['spot', 'dedicated'])(
    '%s: the worker sends spans to a linked collector that exports to X-Ray',
    (pool) => {
      const containers = containersOf(compute, pool);
      const worker = containers.find((c) => c.Name === 'worker');
      const collector = containers.find((c) => c.Name === 'otel-collector');
      expect(env(worker)).toMatchObject({
        OPENBATCH_TRACING: 'xray',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://otel-collector:4318/v1/traces',
      });
      expect(worker?.Links).toContain('otel-collector:otel-collector');
      expect(worker?.DependsOn).toContainEqual({ ContainerName: 'otel-collector', Condition: 'START' });
      // A failed collector loses spans, never the task's chunks; its port is not on the host.
      expect(collector?.Essential).toBe(false);
      expect(collector?.PortMappings ?? []).toEqual([]);
      expect(JSON.stringify(collector?.Image)).toContain('ecr-public/aws-observability/aws-otel-collector');

      const config = parse(env(collector).AOT_CONFIG_CONTENT ?? '') as {
        receivers: { otlp: { protocols: { http: { endpoint: string } } } };
        exporters: { awsxray: { region: string; indexed_attributes: string[] } };
        service: { pipelines: { traces: { receivers: string[]; exporters: string[] } } };
      };
      expect(config.receivers.otlp.protocols.http.endpoint).toBe('0.0.0.0:4318');
      expect(config.exporters.awsxray).toEqual({
        region: 'us-east-1',
        indexed_attributes: ['batch_id', 'tenant', 'chunk'],
      });
      expect(config.service.pipelines.traces).toMatchObject({ receivers: ['otlp'], exporters: ['awsxray'] });
    },
  );

  it('indexes exactly the attributes the code annotates', () => {
    expect([...tracedAnnotations]).toEqual([...ANNOTATION_KEYS]);
  });

  it('the task role may write trace segments and read sampling rules; the collector image comes through the cache', () => {
    const props = taskOf(compute, 'spot');
    expect(statementsOf(compute, roleOf(props.TaskRoleArn))).toContainEqual({
      Effect: 'Allow',
      Action: [
        'xray:GetSamplingRules',
        'xray:GetSamplingStatisticSummaries',
        'xray:GetSamplingTargets',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ],
      Resource: '*',
    });
    expect(JSON.stringify(statementsOf(compute, roleOf(props.ExecutionRoleArn)))).toContain(
      'aws-otel-collector',
    );
  });

  it('takes a collector image from the configuration, and refuses one not pinned', () => {
    const custom = synth({
      config: configWith(environments.prod, (c) => {
        c.instances = {
          ...c.instances,
          collectorImage: { repository: 'mirror/otel-collector', tag: 'v9.9.9' },
        };
      }),
    });
    const collector = containersOf(custom.template(custom.stacks.compute as Stack), 'spot').find(
      (c) => c.Name === 'otel-collector',
    );
    expect(JSON.stringify(collector?.Image)).toContain('mirror/otel-collector:v9.9.9');
    const notPinned = configWith(environments.prod, (c) => {
      c.instances = {
        ...c.instances,
        collectorImage: { repository: 'mirror/otel-collector', tag: 'latest' },
      };
    });
    expect(configProblems(notPinned).join('\n')).toMatch(/instances\.collectorImage\.tag/);
  });
});
