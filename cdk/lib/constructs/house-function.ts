import { resolve } from 'node:path';
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { FunctionDeclaration } from '../../../core/app/declaration.js';
import type { DataPlaneRefs, Uses } from '../data-plane.js';
import { acknowledge, acknowledgeFindings, lambdaBasicExecutionPolicy } from '../nag.js';

/**
 * The Lambda runtime of every openbatch function. The code targets Node 20 (ES2022) and runs
 * unchanged on later majors; nodejs20.x is past its Lambda deprecation, so functions run on
 * the current LTS.
 */
export const lambdaRuntime = lambda.Runtime.NODEJS_24_X;

/** esbuild target of the bundles: the Node major the project develops and tests on. */
export const bundleTarget = 'node20';

export interface HouseFunctionProps {
  /** Physical function name. */
  readonly functionName: string;
  /** The function as declared in core/app/declaration.ts: entry, description, timeout, memory. */
  readonly declaration: FunctionDeclaration;
  /** Repository root; the declaration's entry is relative to it. */
  readonly root: string;
  /** Environment shared by every function (log level, limits). @default none */
  readonly environment?: Readonly<Record<string, string>>;
  readonly logRetention: logs.RetentionDays;
  /** What happens to the log group when the stack goes away. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * openbatch's house defaults for a Lambda, in one place: Node.js LTS on arm64, an ESM bundle
 * built with esbuild (AWS SDK included, so the deployed code uses the SDK version the tests
 * ran), source maps, its own log group with retention. `bind` grants exactly what the
 * function's `uses` names and sets the environment variables that name those resources.
 */
export class HouseFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: HouseFunctionProps) {
    super(scope, id);
    const { declaration: decl } = props;
    // No physical name (the function logs to it through its logging configuration): a retained
    // group from a failed first create would otherwise block the next create.
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      functionName: props.functionName,
      description: decl.description,
      entry: resolve(props.root, decl.entry),
      handler: 'handler',
      projectRoot: props.root,
      depsLockFilePath: resolve(props.root, 'package-lock.json'),
      runtime: lambdaRuntime,
      architecture: lambda.Architecture.ARM_64,
      timeout: Duration.seconds(decl.timeoutSeconds),
      memorySize: decl.memoryMb,
      logGroup: this.logGroup,
      // X-Ray active tracing: Lambda records each invocation (sampled by X-Ray's rules) and runs
      // the endpoint the function's spans go to (core/observability/tracing.ts); CDK grants
      // xray:PutTraceSegments and xray:PutTelemetryRecords.
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        OPENBATCH_TRACING: 'xray',
        ...props.environment,
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: bundleTarget,
        mainFields: ['module', 'main'],
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        externalModules: [],
        // CommonJS dependencies (busboy, sqs-consumer's deps) call require() inside the ESM bundle.
        banner:
          "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
    });
    acknowledge(this, {
      id: `AwsSolutions-IAM4[${lambdaBasicExecutionPolicy}]`,
      reason:
        'AWSLambdaBasicExecutionRole only allows writing to CloudWatch Logs, which every function needs; it is the AWS-maintained minimum for that.',
    });
    acknowledgeFindings(
      this.function,
      'AwsSolutions-IAM5',
      ['Resource::*'],
      'X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords take no resource (CDK adds them for Tracing.ACTIVE).',
    );
  }

  /**
   * Grants what `uses` names and hands the function the variables that name it; with
   * `poolGroups`, also the other groups' pool queues where it sends chunk messages.
   */
  bind(refs: DataPlaneRefs, uses: Uses, poolGroups: readonly string[] = []): this {
    const env = {
      ...refs.bind(this.function, uses, this),
      ...refs.bindPoolGroups(this.function, uses, poolGroups),
    };
    for (const [name, value] of Object.entries(env)) this.function.addEnvironment(name, value);
    return this;
  }
}
