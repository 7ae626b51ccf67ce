import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type App, type Environment, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { EnvironmentConfig } from '../config.js';
import { type MonitoringConfig, monitoringFor } from './environment.js';
import { ResourceNames } from './names.js';
import { ApiStack } from './stacks/api-stack.js';
import { ComputeStack } from './stacks/compute-stack.js';
import { DataStack } from './stacks/data-stack.js';
import { MonitoringStack } from './stacks/monitoring-stack.js';
import { PortalStack } from './stacks/portal-stack.js';

/**
 * `aws`: the whole of openbatch. `localstack`: what LocalStack's free edition can run (data,
 * api, monitoring); the compose file's workers stand in for the compute stack (ECS) and the
 * local runtime serves the portal (CloudFront).
 */
export type DeployTarget = 'aws' | 'localstack';

export interface OpenbatchAppOptions {
  readonly config: EnvironmentConfig;
  /** Repository root (Lambda entries, the worker image context, the portal build). */
  readonly root: string;
  /** @default 'aws' */
  readonly target?: DeployTarget;
  /** The built portal to deploy. @default `<root>/portal/dist` when it holds an index.html */
  readonly portalDist?: string | null;
  /** Run cdk-nag's AwsSolutions checks on every stack. @default true */
  readonly nag?: boolean;
  /** Alarm thresholds and the Grafana workspace. @default the environment's (cdk/lib/environment.ts) */
  readonly monitoring?: MonitoringConfig;
}

export interface OpenbatchStacks {
  readonly data: DataStack;
  readonly api: ApiStack;
  readonly compute?: ComputeStack;
  readonly portal?: PortalStack;
  readonly monitoring: MonitoringStack;
}

/**
 * The stacks of one environment, split by lifecycle: data (stateful, longest-lived), api
 * (functions and routes), compute (GPU workers), portal, monitoring. They find one another's
 * resources by physical name, so each deploys alone; dependencies only order `--all`.
 */
export function addOpenbatch(app: App, options: OpenbatchAppOptions): OpenbatchStacks {
  const { config, root } = options;
  const target = options.target ?? 'aws';
  const env: Environment = { region: config.region, ...(config.account ? { account: config.account } : {}) };
  const common = { env, config };
  const names = new ResourceNames(config.prefix);
  const stackName = names.stackName.bind(names);

  const data = new DataStack(app, stackName('data'), {
    ...common,
    description: `openbatch ${config.name}: buckets, tables and queues`,
    terminationProtection: config.retainData,
  });
  const api = new ApiStack(app, stackName('api'), {
    ...common,
    root,
    description: `openbatch ${config.name}: API Gateway, authorizer and functions`,
    // LocalStack has WAFv2 only in its Ultimate plan; the local runtime plays the guard instead.
    ...(target === 'localstack' ? { bodySizeGuard: false } : {}),
  });
  api.addStackDependency(data, 'functions use the buckets, tables and queues');

  let compute: ComputeStack | undefined;
  let portal: PortalStack | undefined;
  if (target === 'aws') {
    compute = new ComputeStack(app, stackName('compute'), {
      ...common,
      root,
      description: `openbatch ${config.name}: GPU workers on ECS (spot and dedicated pools)`,
    });
    compute.addStackDependency(data, 'workers consume the queues');
    const defaultDist = resolve(root, 'portal/dist');
    const portalDist =
      options.portalDist === undefined
        ? existsSync(resolve(defaultDist, 'index.html'))
          ? defaultDist
          : undefined
        : (options.portalDist ?? undefined);
    portal = new PortalStack(app, stackName('portal'), {
      ...common,
      ...(portalDist ? { portalDist } : {}),
      description: `openbatch ${config.name}: portal on S3 and CloudFront`,
    });
    portal.addStackDependency(api, 'the portal forwards /v1 to the API');
  }
  // LocalStack has no Amazon Managed Grafana: the local runtime serves the metrics instead.
  const monitoringSettings = options.monitoring ?? monitoringFor(config);
  const monitoring = new MonitoringStack(app, stackName('monitoring'), {
    ...common,
    monitoring:
      target === 'localstack'
        ? { ...monitoringSettings, grafana: { ...monitoringSettings.grafana, enabled: false } }
        : monitoringSettings,
    description: `openbatch ${config.name}: dashboards and alarms`,
  });

  for (const stack of [data, api, compute, portal, monitoring]) {
    if (!stack) continue;
    Tags.of(stack).add('project', 'openbatch');
    Tags.of(stack).add('environment', config.name);
  }
  if (options.nag ?? true) enableNag(app);
  return { data, api, monitoring, ...(compute ? { compute } : {}), ...(portal ? { portal } : {}) };
}

const nagged = new WeakSet<App>();

/** Runs cdk-nag's AwsSolutions pack at synthesis (once per app); a finding fails the synth. */
export function enableNag(app: App): void {
  if (nagged.has(app)) return;
  nagged.add(app);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
}
