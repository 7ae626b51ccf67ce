import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { BINARY_MEDIA_TYPES } from '../../../core/app/api-limits.js';
import {
  type FunctionDeclaration,
  type FunctionName,
  functions,
  queues,
  type Trigger,
} from '../../../core/app/declaration.js';
import { type EnvironmentConfig, modelsOf } from '../../config.js';
import { BodySizeGuard } from '../constructs/body-size-guard.js';
import { HouseFunction } from '../constructs/house-function.js';
import { DataPlaneRefs, pascal } from '../data-plane.js';
import { allowedOrigins, sharedEnvironment } from '../environment.js';
import { addGatewayResponses } from '../gateway-responses.js';
import { acknowledge } from '../nag.js';
import { ResourceNames } from '../names.js';

export interface ApiStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  /** Repository root, where the declaration's entry files are. */
  readonly root: string;
  /** The functions to build. @default the declaration's */
  readonly functions?: Readonly<Record<string, FunctionDeclaration>>;
  /** Put the WAF body-size guard on the stage. @default config.api.bodySizeGuard ?? true */
  readonly bodySizeGuard?: boolean;
}

type HttpTrigger = Extract<Trigger, { kind: 'http' }>;

/**
 * The API and every function of the declaration: API Gateway routes from `http` triggers
 * behind the Bearer-key authorizer, SQS event sources from `queue` triggers, EventBridge
 * rules from `schedule` triggers, and per function exactly the grants its `uses` names.
 */
export class ApiStack extends Stack {
  readonly api: apigw.RestApi;
  readonly functions: Record<string, HouseFunction> = {};
  readonly authorizer: apigw.TokenAuthorizer;
  readonly accessLogs: logs.LogGroup;
  readonly executionLogs: logs.LogGroup;
  /** The WAF web ACL refusing oversized bodies, when `api.bodySizeGuard` is on. */
  readonly bodySizeGuard?: BodySizeGuard;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config } = props;
    const declared = props.functions ?? functions;
    validateTriggers(declared);
    const names = new ResourceNames(config.prefix, this);
    const refs = new DataPlaneRefs(this, names);
    const removalPolicy = config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const origins = allowedOrigins(config);
    const poolGroups = modelsOf(config).map((m) => m.group);

    for (const [name, decl] of Object.entries(declared)) {
      const serves = decl.triggers.some((t) => t.kind === 'http');
      const fn = new HouseFunction(this, pascal(name), {
        functionName: names.function(name as FunctionName),
        declaration: decl,
        root: props.root,
        environment: {
          ...sharedEnvironment(config),
          ...(serves ? { ALLOWED_ORIGINS: origins.join(',') } : {}),
        },
        logRetention: config.logRetentionDays,
        removalPolicy,
      }).bind(refs, decl.uses, poolGroups);
      this.functions[name] = fn;
    }

    // No physical name: a retained group from a failed first create would block the next one.
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: config.logRetentionDays,
      removalPolicy,
    });
    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: names.api(),
      description: 'openbatch: OpenAI-compatible Batch API',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      // Request and file bodies reach the function, and file content the client, bytes intact.
      binaryMediaTypes: [...BINARY_MEDIA_TYPES],
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: config.name,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: accessLogFormat(),
        throttlingRateLimit: config.api.rateLimit,
        throttlingBurstLimit: config.api.burstLimit,
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        // X-Ray active tracing: the stage starts each request's trace and hands it to the function.
        tracingEnabled: true,
      },
      ...(origins.length > 0
        ? {
            defaultCorsPreflightOptions: {
              allowOrigins: origins,
              allowHeaders: ['Authorization', 'Content-Type'],
              allowMethods: ['GET', 'POST', 'DELETE'],
              exposeHeaders: ['Location'],
              maxAge: Duration.hours(1),
            },
          }
        : {}),
    });
    addGatewayResponses(this.api);

    // API Gateway writes execution logs (level ERROR) to this group, and would create it without
    // retention on the first logged request; the stage waits for it, so it exists first. The
    // name carries the API's id, so a re-created API never collides with a retained group.
    this.executionLogs = new logs.LogGroup(this, 'ExecutionLogs', {
      logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${config.name}`,
      retention: config.logRetentionDays,
      removalPolicy,
    });
    this.api.deploymentStage.node.addDependency(this.executionLogs);

    // Bodies too large for Lambda are refused in front of API Gateway (core/app/api-limits.ts).
    const guarded = props.bodySizeGuard ?? config.api.bodySizeGuard ?? true;
    if (guarded)
      this.bodySizeGuard = new BodySizeGuard(this, 'BodySizeGuard', {
        stage: this.api.deploymentStage,
        name: `${names.api()}-body-size-guard`,
      });

    const authorizerName = Object.entries(declared).find(([, d]) =>
      d.triggers.some((t) => t.kind === 'authorizer'),
    )?.[0];
    const authorizerFn = authorizerName ? this.functions[authorizerName] : undefined;
    if (!authorizerFn)
      throw new Error('The declaration has HTTP routes but no function with an authorizer trigger');
    this.authorizer = new apigw.TokenAuthorizer(this, 'BearerKeyAuthorizer', {
      authorizerName: `${names.api()}-bearer-key`,
      handler: authorizerFn.function,
      identitySource: apigw.IdentitySource.header('Authorization'),
      // Malformed headers are refused by API Gateway without invoking the authorizer.
      validationRegex: '^[Bb][Ee][Aa][Rr][Ee][Rr]\\s+\\S+$',
      resultsCacheTtl: Duration.seconds(config.api.authorizerCacheSeconds),
    });

    for (const [name, decl] of Object.entries(declared)) {
      const fn = this.functions[name] as HouseFunction;
      const routes = decl.triggers.filter((t): t is HttpTrigger => t.kind === 'http');
      if (routes.length > 0) {
        // One resource-policy statement per function instead of one per route.
        const integration = new apigw.LambdaIntegration(fn.function, {
          proxy: true,
          scopePermissionToMethod: false,
        });
        for (const route of routes) {
          this.api.root.resourceForPath(route.path).addMethod(route.method, integration, {
            authorizer: this.authorizer,
            authorizationType: apigw.AuthorizationType.CUSTOM,
            operationName: `${name} ${route.method} ${route.path}`,
          });
        }
      }
      for (const trigger of decl.triggers) {
        if (trigger.kind === 'queue') {
          fn.function.addEventSource(
            new SqsEventSource(refs.queue(trigger.queue), {
              batchSize: trigger.batchSize,
              reportBatchItemFailures: true,
              ...(trigger.maxConcurrency ? { maxConcurrency: trigger.maxConcurrency } : {}),
            }),
          );
        }
        if (trigger.kind === 'schedule') {
          new events.Rule(this, `${pascal(name)}Schedule`, {
            description: `Runs ${name} every ${trigger.everySeconds / 60} minute(s)`,
            schedule: events.Schedule.rate(Duration.minutes(trigger.everySeconds / 60)),
            // A sweep that fails is not retried: the next one is a minute away.
            targets: [
              new targets.LambdaFunction(fn.function, {
                retryAttempts: 0,
                maxEventAge: Duration.seconds(60),
              }),
            ],
          });
        }
      }
    }

    acknowledge(
      this.api,
      {
        id: 'AwsSolutions-APIG2',
        reason:
          'Requests are validated in the functions with zod schemas, which answer in the OpenAI error shape the SDK expects; an API Gateway validator would answer in its own shape.',
      },
      {
        id: 'AwsSolutions-COG4',
        reason:
          'The API authenticates OpenAI-style Bearer API keys (stored hashed) with a Lambda TOKEN authorizer; Cognito user pools do not model API keys.',
      },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          "API Gateway's account-level CloudWatch role uses the AWS managed AmazonAPIGatewayPushToCloudWatchLogs policy, which is what API Gateway requires.",
      },
    );

    if (!guarded)
      acknowledge(this.api, {
        id: 'AwsSolutions-APIG3',
        reason:
          'The body-size guard web ACL is off here (api.bodySizeGuard: false, or the localstack target, whose LocalStack edition has no WAFv2); every route needs a valid Bearer key (TOKEN authorizer) and the stage is throttled.',
      });

    const baseUrl = `${this.api.url}v1`;
    new ssm.StringParameter(this, 'RestApiIdParameter', {
      parameterName: names.parameter('rest-api-id'),
      description: 'Id of the openbatch REST API (read by the portal stack at deploy time)',
      stringValue: this.api.restApiId,
    });
    new ssm.StringParameter(this, 'ApiUrlParameter', {
      parameterName: names.parameter('api-url'),
      description: 'Base URL of the openbatch API (the SDK baseURL)',
      stringValue: baseUrl,
    });
    new CfnOutput(this, 'ApiBaseUrl', { value: baseUrl, description: 'baseURL for the openai SDK' });
    new CfnOutput(this, 'RestApiId', { value: this.api.restApiId });
  }
}

/** Checks what API Gateway, Lambda and EventBridge would refuse at deploy time, at synth time instead. */
export function validateTriggers(declared: Readonly<Record<string, FunctionDeclaration>>): void {
  const problems: string[] = [];
  const routes = new Set<string>();
  let authorizers = 0;
  for (const [name, decl] of Object.entries(declared)) {
    for (const t of decl.triggers) {
      if (t.kind === 'authorizer') authorizers++;
      if (t.kind === 'http') {
        const key = `${t.method} ${t.path}`;
        if (routes.has(key)) problems.push(`${name}: route ${key} is declared twice`);
        routes.add(key);
        if (!/^(\/[\w.-]+|\/\{[a-z_]+\})+$/.test(t.path))
          problems.push(`${name}: '${t.path}' is not a route path`);
      }
      if (t.kind === 'queue') {
        // Lambda refuses an SQS event source whose visibility timeout is below the function timeout.
        if (queues[t.queue].visibilityTimeoutSeconds < decl.timeoutSeconds)
          problems.push(
            `${name}: queue ${t.queue}'s visibility timeout (${queues[t.queue].visibilityTimeoutSeconds} s) is below the function timeout (${decl.timeoutSeconds} s)`,
          );
        if (!Number.isInteger(t.batchSize) || t.batchSize < 1 || t.batchSize > 10)
          problems.push(`${name}: SQS batch size must be 1-10`);
        const c = t.maxConcurrency;
        if (c !== undefined && (!Number.isInteger(c) || c < 2 || c > 1000))
          problems.push(`${name}: an SQS event source's maximum concurrency must be 2-1,000`);
      }
      if (t.kind === 'schedule' && (t.everySeconds % 60 !== 0 || t.everySeconds < 60))
        problems.push(
          `${name}: EventBridge schedules run every whole minute; ${t.everySeconds} s is not one`,
        );
    }
    if (decl.timeoutSeconds > 900) problems.push(`${name}: Lambda timeout is at most 900 s`);
    if (decl.triggers.some((t) => t.kind === 'http') && decl.timeoutSeconds > 29)
      problems.push(
        `${name}: API Gateway waits at most 29 s; the function's timeout is ${decl.timeoutSeconds} s`,
      );
    if (decl.memoryMb < 128 || decl.memoryMb > 10240) problems.push(`${name}: memory must be 128-10240 MB`);
  }
  if (routes.size > 0 && authorizers !== 1)
    problems.push(`exactly one function must have an authorizer trigger (found ${authorizers})`);
  if (problems.length > 0) throw new Error(`Invalid function declaration:\n  - ${problems.join('\n  - ')}`);
}

/** One JSON line per request; the API key itself is never logged, the tenant it resolved to is. */
function accessLogFormat(): apigw.AccessLogFormat {
  const f = apigw.AccessLogField;
  return apigw.AccessLogFormat.custom(
    JSON.stringify({
      requestId: f.contextRequestId(),
      time: f.contextRequestTime(),
      ip: f.contextIdentitySourceIp(),
      userAgent: f.contextIdentityUserAgent(),
      method: f.contextHttpMethod(),
      path: f.contextPath(),
      route: f.contextResourcePath(),
      status: f.contextStatus(),
      responseLength: f.contextResponseLength(),
      latencyMs: f.contextResponseLatency(),
      integrationLatencyMs: f.contextIntegrationLatency(),
      tenant: f.contextAuthorizerPrincipalId(),
      error: f.contextErrorMessage(),
      errorType: f.contextErrorResponseType(),
    }),
  );
}
