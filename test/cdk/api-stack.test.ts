import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { environments } from '../../cdk/config.js';
import { HouseFunction } from '../../cdk/lib/constructs/house-function.js';
import { policyEnvironment } from '../../cdk/lib/environment.js';
import { gatewayResponses } from '../../cdk/lib/gateway-responses.js';
import { bindingsOf } from '../../core/app/access.js';
import {
  type FunctionName,
  functions,
  physicalName,
  type QueueName,
  queues,
  type TableName,
  tables,
  unauthorizedBody,
} from '../../core/app/declaration.js';
import { catalogBounds, cdkContext, onlyResource, resourcesOf, root, synth } from './support.js';

const dev = synth({ env: 'dev' });
const staging = synth({ env: 'staging' });
const api = dev.template(dev.stacks.api);
const prefix = 'openbatch-dev';

function lambdaOf(t: Template, name: string) {
  return onlyResource(t, 'AWS::Lambda::Function', (p) => p.FunctionName === physicalName(prefix, name));
}

/** The statements of the policy attached to a function's role. */
function statementsOf(name: string): { Action: string | string[]; Resource: unknown; Effect: string }[] {
  const fn = lambdaOf(api, name);
  const role = (fn.props.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
  const policies = Object.values(resourcesOf(api, 'AWS::IAM::Policy')).filter((p) =>
    JSON.stringify(p.Properties?.Roles).includes(`"${role}"`),
  );
  return policies.flatMap(
    (p) =>
      (p.Properties?.PolicyDocument as { Statement: ReturnType<typeof statementsOf> } | undefined)
        ?.Statement ?? [],
  );
}

const actionsOn = (name: string, resourceFragment: string) =>
  statementsOf(name)
    .filter((s) => JSON.stringify(s.Resource).includes(resourceFragment))
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

describe('functions', () => {
  it.each(Object.keys(functions))(
    '%s runs on arm64 with the Node.js LTS runtime, source maps and its own log group',
    (name) => {
      const { props } = lambdaOf(api, name);
      expect(props.Architectures).toEqual(['arm64']);
      expect(props.Runtime).toBe('nodejs24.x');
      expect((props.Environment as { Variables: Record<string, unknown> }).Variables.NODE_OPTIONS).toBe(
        '--enable-source-maps',
      );
      const logGroup = (props.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      const group = resourcesOf(api, 'AWS::Logs::LogGroup')[logGroup]?.Properties;
      expect(group?.RetentionInDays).toBe(environments.dev.logRetentionDays);
      // Generated, not physical: see test/cdk/first-deploy.test.ts (retained groups on re-create).
      expect(group?.LogGroupName).toBeUndefined();
    },
  );

  it.each(Object.entries(functions))(
    '%s gets exactly the variables naming what it uses, and the shared settings',
    (name, decl) => {
      const vars = (lambdaOf(api, name).props.Environment as { Variables: Record<string, unknown> })
        .Variables;
      const expected = new Set([
        'NODE_OPTIONS',
        // X-Ray spans (core/observability/tracing.ts; test/cdk/tracing.test.ts).
        'OPENBATCH_TRACING',
        'LOG_LEVEL',
        'FILE_RETENTION_DAYS',
        'MODEL_CATALOG',
        ...Object.keys(policyEnvironment(environments.dev)),
        ...(decl.triggers.some((t) => t.kind === 'http') ? ['ALLOWED_ORIGINS'] : []),
        ...bindingsOf(decl.uses).map((b) => b.env),
      ]);
      expect(new Set(Object.keys(vars))).toEqual(expected);
      expect(vars.LOG_LEVEL).toBe('debug');
      expect(vars.FILE_RETENTION_DAYS).toBe(String(environments.dev.fileRetentionDays));
      // The one configured model, on the default group: no other group's queues to name; its
      // pools' bounds, which the policy decides within.
      expect(JSON.parse(String(vars.MODEL_CATALOG))).toEqual({
        pools: { default: catalogBounds(environments.dev.pools) },
        models: [{ id: environments.dev.engine.model, pool: 'default', owned_by: 'openbatch', created: 0 }],
      });
      for (const t of Object.keys(decl.uses.tables ?? {}) as TableName[])
        expect(vars[tables[t].env]).toBe(physicalName(prefix, t));
      for (const q of decl.uses.queues ?? [])
        expect(JSON.stringify(vars[queues[q].env])).toContain(`/${physicalName(prefix, q)}"`);
    },
  );

  it('hands API functions the allowed browser origins', () => {
    const vars = (lambdaOf(api, 'filesApi').props.Environment as { Variables: Record<string, unknown> })
      .Variables;
    expect(vars.ALLOWED_ORIGINS).toBe(environments.dev.allowedOrigins.join(','));
  });

  it('bundles every handler with esbuild into an ES module that loads and exports its handler', async () => {
    const app = new App({ context: { ...cdkContext(), 'aws:cdk:bundling-stacks': ['**'] } });
    const stack = new Stack(app, 'Bundle', { env: { region: 'us-east-1' } });
    const assets = new Map<string, string>();
    for (const [name, declaration] of Object.entries(functions)) {
      const fn = new HouseFunction(stack, name, {
        functionName: `bundle-${name}`,
        declaration,
        root,
        logRetention: 1,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      assets.set(
        name,
        (stack.resolve((fn.function.node.defaultChild as CfnFunction).code) as { s3Key: string }).s3Key,
      );
    }
    const outdir = app.synth().directory;
    for (const [name, key] of assets) {
      const dir = join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
      expect(code.startsWith("import { createRequire } from 'node:module';"), name).toBe(true);
      expect(existsSync(join(dir, 'index.mjs.map')), name).toBe(true);
      // What Lambda does: import the module and find `handler`.
      const mod = (await import(pathToFileURL(join(dir, 'index.mjs')).href)) as { handler?: unknown };
      expect(typeof mod.handler, name).toBe('function');
    }
  }, 180_000);
});

describe('least privilege per function, from the declaration', () => {
  const allTables = Object.keys(tables) as TableName[];
  const allQueues = Object.keys(queues) as QueueName[];

  it.each(Object.entries(functions))('%s can reach only what it uses', (name, decl) => {
    const used = new Set<string>(Object.keys(decl.uses.tables ?? {}));
    for (const t of allTables) {
      const actions = actionsOn(name, `:table/${physicalName(prefix, t)}"`);
      if (used.has(t))
        expect(actions, t).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']));
      else expect(actions, t).toEqual([]);
    }
    const bucketActions = actionsOn(name, `${physicalName(prefix, 'files')}-`);
    if (decl.uses.buckets?.files) expect(bucketActions).toContain('s3:GetObject');
    else expect(bucketActions).toEqual([]);

    const trigger = decl.triggers.find((t) => t.kind === 'queue');
    for (const q of allQueues) {
      const actions = actionsOn(name, `:${physicalName(prefix, q)}"`);
      if (decl.uses.queues?.includes(q)) expect(actions, q).toContain('sqs:SendMessage');
      else expect(actions, q).not.toContain('sqs:SendMessage');
      if (trigger?.kind === 'queue' && trigger.queue === q) expect(actions).toContain('sqs:ReceiveMessage');
      else expect(actions, q).not.toContain('sqs:ReceiveMessage');
    }
  });

  it('grants no action on every resource but the X-Ray trace writes, which take none', () => {
    for (const name of Object.keys(functions) as FunctionName[]) {
      for (const s of statementsOf(name))
        if (s.Resource === '*')
          expect(s.Action).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    }
  });

  it('keeps DynamoDB grants to the named tables and their indexes', () => {
    const resources = statementsOf('slaMonitor')
      .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]))
      .map((r) => JSON.stringify(r))
      .filter((r) => r.includes('dynamodb'));
    expect(resources.map((r) => r.replace(/.*:table\//, 'table/').replace(/"\]\]\}$/, ''))).toEqual([
      'table/openbatch-dev-batches',
      'table/openbatch-dev-batches/index/*',
      'table/openbatch-dev-chunks',
      'table/openbatch-dev-pools',
    ]);
  });

  it('lets API Gateway invoke each API function once, not once per route', () => {
    const permissions = Object.values(resourcesOf(api, 'AWS::Lambda::Permission')).filter(
      (p) => p.Properties?.Principal === 'apigateway.amazonaws.com',
    );
    const httpFunctions = Object.values(functions).filter((d) => d.triggers.some((t) => t.kind === 'http'));
    // one per API function, plus the authorizer's
    expect(permissions).toHaveLength(httpFunctions.length + 1);
  });
});

describe('triggers', () => {
  it('queue functions report partial batch failures, so only failed records are retried', () => {
    const mappings = Object.values(resourcesOf(api, 'AWS::Lambda::EventSourceMapping'));
    const queueTriggers = Object.values(functions).flatMap((d) =>
      d.triggers.filter((t) => t.kind === 'queue'),
    );
    expect(mappings).toHaveLength(queueTriggers.length);
    for (const m of mappings)
      expect(m.Properties?.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it('the scheduler and the finalizer each run up to 10 invocations at once (many small batches in parallel, bounded)', () => {
    const mappings = Object.values(resourcesOf(api, 'AWS::Lambda::EventSourceMapping'));
    for (const name of ['scheduler', 'finalizer'] as const) {
      const [trigger] = functions[name].triggers;
      expect(trigger).toMatchObject({ kind: 'queue', maxConcurrency: 10 });
      const mapping = mappings.find((m) =>
        JSON.stringify(m.Properties?.EventSourceArn).includes(
          `:${physicalName(prefix, trigger?.kind === 'queue' ? trigger.queue : '')}"`,
        ),
      );
      expect(mapping?.Properties?.ScalingConfig, name).toEqual({ MaximumConcurrency: 10 });
    }
  });

  it("a queue's visibility timeout covers its function's timeout", () => {
    for (const decl of Object.values(functions)) {
      for (const t of decl.triggers)
        if (t.kind === 'queue')
          expect(queues[t.queue].visibilityTimeoutSeconds).toBeGreaterThanOrEqual(decl.timeoutSeconds);
    }
  });

  it('a failed scheduled sweep is not retried later; the next one comes on schedule', () => {
    api.hasResourceProperties('AWS::Events::Rule', {
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 } })],
    });
  });
});

describe('API Gateway', () => {
  it('is a regional REST API that passes every body through as bytes (uploads, file content)', () => {
    api.hasResourceProperties('AWS::ApiGateway::RestApi', {
      Name: 'openbatch-dev-api',
      EndpointConfiguration: { Types: ['REGIONAL'] },
      BinaryMediaTypes: ['*/*'],
    });
  });

  it('authenticates Bearer keys with a cached TOKEN authorizer', () => {
    api.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'TOKEN',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: environments.dev.api.authorizerCacheSeconds,
      IdentityValidationExpression: Match.anyValue(),
    });
    const regex = new RegExp(
      onlyResource(api, 'AWS::ApiGateway::Authorizer').props.IdentityValidationExpression as string,
    );
    expect(regex.test('Bearer sk-abc')).toBe(true);
    expect(regex.test('bearer sk-abc')).toBe(true);
    expect(regex.test('Basic dXNlcg==')).toBe(false);
    expect(regex.test('Bearer')).toBe(false);
  });

  it('puts every declared route behind the authorizer', () => {
    const methods = Object.values(resourcesOf(api, 'AWS::ApiGateway::Method')).filter(
      (m) => m.Properties?.HttpMethod !== 'OPTIONS',
    );
    const routes = Object.values(functions).flatMap((d) => d.triggers.filter((t) => t.kind === 'http'));
    expect(methods).toHaveLength(routes.length);
    for (const m of methods) {
      expect(m.Properties?.AuthorizationType).toBe('CUSTOM');
      expect(m.Properties?.AuthorizerId).toEqual({
        Ref: onlyResource(api, 'AWS::ApiGateway::Authorizer').id,
      });
      expect((m.Properties?.Integration as { Type: string } | undefined)?.Type).toBe('AWS_PROXY');
    }
  });

  it("answers a rejected key with OpenAI's 401 body", () => {
    for (const type of ['UNAUTHORIZED', 'ACCESS_DENIED']) {
      const { props } = onlyResource(api, 'AWS::ApiGateway::GatewayResponse', (p) => p.ResponseType === type);
      expect(props.StatusCode).toBe('401');
      expect(
        JSON.parse((props.ResponseTemplates as Record<string, string>)['application/json'] ?? ''),
      ).toEqual(unauthorizedBody);
    }
  });

  it('renders every gateway error in the OpenAI error shape', () => {
    const rendered = Object.values(resourcesOf(api, 'AWS::ApiGateway::GatewayResponse'));
    expect(rendered).toHaveLength(Object.keys(gatewayResponses).length);
    for (const r of rendered) {
      const body =
        (r.Properties?.ResponseTemplates as Record<string, string> | undefined)?.['application/json'] ?? '';
      // API Gateway substitutes $context.error.messageString (a JSON string) before sending.
      const parsed = JSON.parse(body.replace('$context.error.messageString', '"message"')) as {
        error: Record<string, unknown>;
      };
      expect(Object.keys(parsed.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    }
    api.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'MISSING_AUTHENTICATION_TOKEN',
      StatusCode: '404',
    });
    api.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'THROTTLED',
      StatusCode: '429',
    });
  });

  it('writes JSON access logs with the tenant, never the key, and throttles the stage', () => {
    const { props } = onlyResource(api, 'AWS::ApiGateway::Stage');
    expect(props.StageName).toBe('dev');
    const settings = props.AccessLogSetting as { Format: string; DestinationArn: unknown };
    const format = JSON.parse(settings.Format) as Record<string, string>;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
      tenant: '$context.authorizer.principalId',
    });
    expect(settings.Format).not.toMatch(/Authorization|authorizationToken/i);
    expect(JSON.stringify(settings.DestinationArn)).toContain('AccessLogs');
    expect(props.MethodSettings).toEqual([
      expect.objectContaining({
        HttpMethod: '*',
        ResourcePath: '/*',
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
        MetricsEnabled: true,
        ThrottlingRateLimit: environments.dev.api.rateLimit,
        ThrottlingBurstLimit: environments.dev.api.burstLimit,
      }),
    ]);
  });

  it('answers CORS preflights only where browser origins are configured', () => {
    const preflight = (t: Template) =>
      Object.values(resourcesOf(t, 'AWS::ApiGateway::Method')).filter(
        (m) => m.Properties?.HttpMethod === 'OPTIONS',
      );
    expect(preflight(api).length).toBeGreaterThan(0);
    expect(JSON.stringify(preflight(api)[0])).toContain(environments.dev.allowedOrigins[0]);
    expect(preflight(staging.template(staging.stacks.api))).toEqual([]);
  });

  it('publishes its id and URL for the portal stack and the SDK', () => {
    api.hasResourceProperties('AWS::SSM::Parameter', { Name: '/openbatch-dev/rest-api-id' });
    api.hasResourceProperties('AWS::SSM::Parameter', { Name: '/openbatch-dev/api-url' });
    const url = JSON.stringify(api.findOutputs('ApiBaseUrl').ApiBaseUrl?.Value);
    expect(url).toMatch(/^\{"Fn::Join":\["",\["https:\/\/",.*"\.execute-api\.us-east-1\.",.*"\/v1"\]\]\}$/);
  });
});

describe('the function list', () => {
  it('is the declaration', () => {
    expect(Object.keys(dev.stacks.api.functions).sort()).toEqual(Object.keys(functions).sort());
  });
});
