import type { Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  configProblems,
  type EnvironmentConfig,
  environments,
  type ModelConfig,
  modelsOf,
} from '../../cdk/config.js';
import { policyEnvironment } from '../../cdk/lib/environment.js';
import { functions, queues, sendsToPoolQueues } from '../../core/app/declaration.js';
import { catalogBounds, configWith, resourcesOf, synth } from './support.js';

/**
 * Per-model worker pools (cdk/config.ts `models`, docs/deploy.md "Models and pools"): a second
 * model on its own pool group gets its own queues, DLQs, services, scaling and alarms, and the
 * functions that send chunk messages learn its queues from POOL_QUEUE_URLS.
 */

/** dev with a second, larger model on the `large` group, with pools of its own. */
const large: ModelConfig = {
  id: 'qwen-7b',
  group: 'large',
  engine: {
    ...environments.dev.engine,
    model: 'Qwen/Qwen2.5-7B-Instruct',
    weights: { sizeGiB: 15, s3Prefix: 'qwen-7b' },
    memoryMiB: 12288,
  },
  pools: {
    spot: { instanceTypes: ['g6.xlarge', 'g5.xlarge'], minWorkers: 0, maxWorkers: 3 },
    dedicated: { instanceTypes: ['g6.xlarge'], minWorkers: 0, maxWorkers: 1 },
  },
};
const twoModels: EnvironmentConfig = configWith(environments.dev, (c) => {
  c.models = [{ id: 'qwen-1.5b' }, large];
});

const two = synth({ config: twoModels });
const one = synth({ env: 'dev' });
const tpl = (s: ReturnType<typeof synth>, stack: Stack | undefined) => s.template(stack as Stack);

type Token = string | { Ref?: string; 'Fn::GetAtt'?: string[]; 'Fn::Join'?: [string, Token[]] };
/** A CloudFormation value with its joins done and references as `<id>`. */
const flat = (t: unknown): string => {
  if (typeof t === 'string') return t;
  const v = t as Exclude<Token, string>;
  if (v.Ref) return `<${v.Ref}>`;
  if (v['Fn::GetAtt']) return `<${v['Fn::GetAtt'].join('.')}>`;
  if (v['Fn::Join']) return v['Fn::Join'][1].map(flat).join(v['Fn::Join'][0]);
  return JSON.stringify(t);
};
/** The queue a URL or ARN names. */
const queueName = (urlOrArn: string) => urlOrArn.split(/[/:]/).pop();

type Container = { Name: string; Environment: { Name: string; Value: unknown }[]; Command?: string[] };
const envOf = (c: Container) => Object.fromEntries(c.Environment.map((e) => [e.Name, flat(e.Value)]));

function tasks(t: Template) {
  return Object.entries(resourcesOf(t, 'AWS::ECS::TaskDefinition')).map(([id, r]) => {
    const containers = r.Properties?.ContainerDefinitions as Container[];
    const get = (name: string) => containers.find((c) => c.Name === name) as Container;
    return {
      id,
      family: r.Properties?.Family as string,
      role: flat(r.Properties?.TaskRoleArn),
      worker: get('worker'),
      engine: get('engine'),
      sync: get('model-sync'),
    };
  });
}

/** The queues a role may send to, and those it may consume, by the IAM policies attached to it. */
function queueGrants(t: Template, roleRef: string): { send: string[]; consume: string[] } {
  const send = new Set<string>();
  const consume = new Set<string>();
  for (const p of Object.values(resourcesOf(t, 'AWS::IAM::Policy'))) {
    const roles = ((p.Properties?.Roles ?? []) as unknown[]).map(flat);
    if (!roles.includes(roleRef)) continue;
    const doc = p.Properties?.PolicyDocument as {
      Statement: { Action: string | string[]; Resource: unknown }[];
    };
    for (const s of doc.Statement) {
      const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
      const resources = (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).map(flat);
      for (const r of resources.filter((r) => r.includes(':sqs:'))) {
        if (actions.includes('sqs:SendMessage')) send.add(queueName(r) as string);
        if (actions.includes('sqs:ReceiveMessage')) consume.add(queueName(r) as string);
      }
    }
  }
  return { send: [...send].sort(), consume: [...consume].sort() };
}

const largeQueues = ['openbatch-dev-large-dedicated', 'openbatch-dev-large-spot'];

describe('configuration', () => {
  it('resolves each model with the environment defaults it does not set', () => {
    expect(modelsOf(twoModels)).toEqual([
      { id: 'qwen-1.5b', group: 'default', engine: environments.dev.engine, pools: environments.dev.pools },
      { id: 'qwen-7b', group: 'large', engine: large.engine, pools: large.pools },
    ]);
    expect(configProblems(twoModels)).toEqual([]);
  });

  it('without models, serves the environment engine on the default group', () => {
    expect(modelsOf(environments.prod)).toEqual([
      {
        id: environments.prod.engine.model,
        group: 'default',
        engine: environments.prod.engine,
        pools: environments.prod.pools,
      },
    ]);
  });

  it('refuses duplicate ids, shared or malformed groups, and anything but one model on default', () => {
    const problems = (models: ModelConfig[], settings?: Record<string, string>) =>
      configProblems(
        configWith(environments.dev, (c) => {
          c.models = models;
          if (settings) c.settings = settings;
        }),
      );
    expect(problems([{ id: 'a' }, { id: 'a', group: 'b' }])).toEqual(["models[1].id: 'a' is listed twice"]);
    expect(problems([{ id: 'a' }, { id: 'b', group: 'x' }, { id: 'c', group: 'x' }])).toEqual([
      "models[2].group: 'x' already runs another model (one model per group)",
    ]);
    expect(problems([{ id: 'a' }, { id: 'b', group: 'Big_One' }])[0]).toMatch(
      /^models\[1\]\.group: 'Big_One': a pool group is lowercase letters/,
    );
    expect(problems([{ id: 'a', group: 'x' }])).toEqual([
      "models: exactly one model on the 'default' group (the environment's original queues and services), found 0",
    ]);
    expect(problems([{ id: 'a' }, { id: 'b' }])).toContain(
      "models[1].group: 'default' already runs another model (one model per group)",
    );
    expect(problems([])).toContain('models: at least one model (or leave it unset)');
    expect(problems([{ id: 'a b' }])).toEqual([
      'models[0].id: the model name requests use, without spaces or commas',
    ]);
    expect(problems([{ id: 'a' }], { MODEL_CATALOG: '{"models":[{"id":"a"}]}' })).toEqual([
      'settings.MODEL_CATALOG: set models instead (the catalog follows the pools the app deploys)',
    ]);
  });

  it("checks a model's own engine and pools like the environment's", () => {
    const bad = configWith(twoModels, (c) => {
      c.models = [
        { id: 'a' },
        {
          ...large,
          engine: { ...(large.engine as NonNullable<ModelConfig['engine']>), gpus: 2 },
          pools: { ...large.pools, spot: { instanceTypes: ['m5.large'], minWorkers: 0, maxWorkers: 1 } },
        } as ModelConfig,
      ];
    });
    expect(configProblems(bad)).toEqual([
      "models[1].pools.spot.instanceTypes: 'm5.large' is not an NVIDIA GPU instance type listed in cdk/config.ts",
      'models[1].pools.dedicated.instanceTypes: g6.xlarge has 1 GPU(s); the engine reserves 2',
    ]);
  });

  it('gives every group the loosest SLA bounds and start-up, and the largest dispatch window', () => {
    const single = policyEnvironment(environments.dev);
    const both = policyEnvironment(twoModels);
    // dev: spot 0..2, dedicated 0..1; large: spot 0..3, dedicated 0..1.
    expect(both).toMatchObject({
      SLA_SPOT_MIN_TASKS: '0',
      SLA_SPOT_MAX_TASKS: '3',
      SLA_DEDICATED_MIN_TASKS: '0',
      SLA_DEDICATED_MAX_TASKS: '1',
    });
    expect(Number(both.SLA_TASK_STARTUP_SECONDS)).toBeGreaterThan(Number(single.SLA_TASK_STARTUP_SECONDS));
    expect(Number(both.DISPATCH_WINDOW_CHUNKS)).toBeGreaterThan(Number(single.DISPATCH_WINDOW_CHUNKS));
  });
});

describe('data stack', () => {
  const queuesIn = (s: ReturnType<typeof synth>) =>
    Object.values(resourcesOf(tpl(s, s.stacks.data), 'AWS::SQS::Queue')).map((r) => r.Properties ?? {});

  it('makes the second group a spot and a dedicated queue with DLQs, set like the declared ones', () => {
    const all = queuesIn(two);
    const byName = (n: string) => all.find((q) => q.QueueName === n) as Record<string, unknown>;
    for (const pool of ['spot', 'dedicated'] as const) {
      const declared = byName(`openbatch-dev-${pool}`);
      const own = byName(`openbatch-dev-large-${pool}`);
      const dlq = byName(`openbatch-dev-large-${pool}-dlq`);
      expect(own).toBeDefined();
      expect(dlq).toBeDefined();
      expect(own.VisibilityTimeout).toBe(queues[pool].visibilityTimeoutSeconds);
      expect(own.MessageRetentionPeriod).toBe(declared.MessageRetentionPeriod);
      expect(own.SqsManagedSseEnabled).toBe(true);
      expect(dlq.SqsManagedSseEnabled).toBe(true);
      const redrive = own.RedrivePolicy as { maxReceiveCount: number; deadLetterTargetArn: unknown };
      expect(redrive.maxReceiveCount).toBe(queues[pool].maxReceiveCount);
      expect(flat(redrive.deadLetterTargetArn)).toMatch(/^<LargeSpotDeadLetterQueue|^<LargeDedicatedDead/);
    }
    expect(all).toHaveLength(queuesIn(one).length + 4);
  });

  it('adds no queue for a single model', () => {
    const names = queuesIn(one).map((q) => q.QueueName as string);
    expect(names.sort()).toEqual(
      Object.keys(queues)
        .flatMap((q) => [`openbatch-dev-${q}`, `openbatch-dev-${q}-dlq`])
        .sort(),
    );
  });
});

describe('compute stack', () => {
  const compute = tpl(two, two.stacks.compute);

  it('runs one spot and one on-demand service, on capacity providers of their own, per model', () => {
    const services = Object.values(resourcesOf(compute, 'AWS::ECS::Service')).map(
      (r) => r.Properties?.ServiceName,
    );
    expect(services.sort()).toEqual([
      'openbatch-dev-dedicated-workers',
      'openbatch-dev-large-dedicated-workers',
      'openbatch-dev-large-spot-workers',
      'openbatch-dev-spot-workers',
    ]);
    const providers = Object.values(resourcesOf(compute, 'AWS::ECS::CapacityProvider')).map(
      (r) => r.Properties?.Name,
    );
    expect(providers.sort()).toEqual([
      'openbatch-dev-dedicated-capacity',
      'openbatch-dev-large-dedicated-capacity',
      'openbatch-dev-large-spot-capacity',
      'openbatch-dev-spot-capacity',
    ]);
    const groups = Object.values(resourcesOf(compute, 'AWS::AutoScaling::AutoScalingGroup')).map(
      (r) => r.Properties?.MaxSize,
    );
    expect(groups.sort()).toEqual(['1', '1', '2', '3']);
  });

  it("keeps the default group's construct ids, so a deployed environment replaces nothing", () => {
    const ids = (t: Template) => Object.keys(resourcesOf(t, 'AWS::ECS::Service')).sort();
    const before = ids(tpl(one, one.stacks.compute));
    expect(ids(compute).filter((id) => !id.startsWith('Large'))).toEqual(before);
  });

  it("points each worker at its group's queues and serves its model from its own files", () => {
    const byFamily = Object.fromEntries(tasks(compute).map((t) => [t.family, t]));
    for (const [group, model, prefix] of [
      ['', 'qwen-1.5b', environments.dev.engine.model],
      ['large-', 'qwen-7b', 'qwen-7b'],
    ] as const) {
      for (const pool of ['spot', 'dedicated'] as const) {
        const t = byFamily[`openbatch-dev-${group}${pool}-workers`];
        if (!t) throw new Error(`no task for ${group}${pool}`);
        const vars = envOf(t.worker);
        expect(queueName(vars.QUEUE_URL as string)).toBe(`openbatch-dev-${group}${pool}`);
        expect(queueName(vars.SPOT_QUEUE_URL as string)).toBe(`openbatch-dev-${group}spot`);
        expect(queueName(vars.DEDICATED_QUEUE_URL as string)).toBe(`openbatch-dev-${group}dedicated`);
        expect(vars.POOL_GROUP).toBe(group ? 'large' : 'default');
        // A worker hands work to its own group only.
        expect(vars.POOL_QUEUE_URLS).toBeUndefined();
        expect(JSON.parse(vars.MODEL_CATALOG as string).models.map((m: { id: string }) => m.id)).toEqual([
          'qwen-1.5b',
          'qwen-7b',
        ]);
        const served = t.engine.Command ?? [];
        expect(served[served.indexOf('--served-model-name') + 1]).toBe(model);
        expect(served[0]).toBe(`/models/weights/${prefix}`);
        expect(envOf(t.sync).MODEL_PREFIX).toBe(prefix);

        const grants = queueGrants(compute, t.role.replace('.Arn', ''));
        expect(grants.consume).toEqual([`openbatch-dev-${group}${pool}`]);
        expect(grants.send).toEqual(
          [
            `openbatch-dev-${group}spot`,
            `openbatch-dev-${group}dedicated`,
            'openbatch-dev-finalizing',
          ].sort(),
        );
      }
    }
  });

  it('scales each group on its own DesiredTasks: {Pool} for default, {Pool, PoolGroup} for the others', () => {
    const desiredDims = Object.values(resourcesOf(compute, 'AWS::CloudWatch::Alarm')).flatMap((a) =>
      (
        (a.Properties?.Metrics as {
          MetricStat?: { Metric: { MetricName: string; Dimensions: unknown[] } };
        }[]) ?? []
      )
        .filter((m) => m.MetricStat?.Metric.MetricName === 'DesiredTasks')
        .map((m) => {
          const dims = m.MetricStat?.Metric.Dimensions as { Name: string; Value: string }[];
          return Object.fromEntries(dims.map((d) => [d.Name, d.Value]));
        }),
    );
    const seen = [...new Set(desiredDims.map((d) => JSON.stringify(d)))].map((d) => JSON.parse(d)).sort();
    expect(seen).toEqual(
      [
        { Function: 'sla-monitor', Pool: 'spot' },
        { Function: 'sla-monitor', Pool: 'dedicated' },
        { Function: 'sla-monitor', Pool: 'spot', PoolGroup: 'large' },
        { Function: 'sla-monitor', Pool: 'dedicated', PoolGroup: 'large' },
      ].sort(),
    );
    // Each of the four services has its own scalable target, bounded by its own pool.
    const services = resourcesOf(compute, 'AWS::ECS::Service');
    const targets = Object.values(resourcesOf(compute, 'AWS::ApplicationAutoScaling::ScalableTarget')).map(
      (r) => {
        const service = /<(\w+)\.Name>$/.exec(flat(r.Properties?.ResourceId))?.[1] as string;
        return [services[service]?.Properties?.ServiceName, r.Properties?.MaxCapacity];
      },
    );
    expect(Object.fromEntries(targets)).toEqual({
      'openbatch-dev-spot-workers': 2,
      'openbatch-dev-dedicated-workers': 1,
      'openbatch-dev-large-spot-workers': 3,
      'openbatch-dev-large-dedicated-workers': 1,
    });
  });
});

describe('api stack', () => {
  const api = tpl(two, two.stacks.api);
  const lambdaOf = (name: string) => {
    const fn = Object.values(resourcesOf(api, 'AWS::Lambda::Function')).find(
      (r) =>
        r.Properties?.FunctionName ===
        `openbatch-dev-${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
    );
    if (!fn) throw new Error(`no function ${name}`);
    const vars =
      (fn.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
    return { vars, role: flat(fn.Properties?.Role).replace('.Arn', '') };
  };

  it.each(Object.entries(functions))(
    '%s: POOL_QUEUE_URLS and send grants on the other group exactly where it sends chunk messages',
    (name, decl) => {
      const { vars, role } = lambdaOf(name);
      const sent = queueGrants(api, role).send.filter((q) => q.includes('-large-'));
      // Each group's own pools' bounds: the policy decides the `large` pools within 0–3 and 0–1.
      expect(JSON.parse(String(vars.MODEL_CATALOG))).toEqual({
        pools: {
          default: catalogBounds(environments.dev.pools),
          large: { spot: { min_tasks: 0, max_tasks: 3 }, dedicated: { min_tasks: 0, max_tasks: 1 } },
        },
        models: [
          { id: 'qwen-1.5b', pool: 'default', owned_by: 'openbatch', created: 0 },
          { id: 'qwen-7b', pool: 'large', owned_by: 'openbatch', created: 0 },
        ],
      });
      if (!sendsToPoolQueues(decl.uses)) {
        expect(vars.POOL_QUEUE_URLS).toBeUndefined();
        expect(sent).toEqual([]);
        return;
      }
      const urls = JSON.parse(flat(vars.POOL_QUEUE_URLS)) as Record<string, Record<string, string>>;
      expect(Object.keys(urls)).toEqual(['large']);
      expect(queueName(urls.large?.spot as string)).toBe('openbatch-dev-large-spot');
      expect(queueName(urls.large?.dedicated as string)).toBe('openbatch-dev-large-dedicated');
      const pools = (decl.uses.queues ?? []).filter((q) => q === 'spot' || q === 'dedicated');
      expect(sent).toEqual(pools.map((p) => `openbatch-dev-large-${p}`).sort());
    },
  );

  it('names no other group for a single model', () => {
    const vars = Object.values(resourcesOf(tpl(one, one.stacks.api), 'AWS::Lambda::Function')).map(
      (r) =>
        (r.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {},
    );
    expect(vars.filter((v) => 'POOL_QUEUE_URLS' in v)).toEqual([]);
  });

  it('the scheduler and the SLA monitor send to both groups', () => {
    for (const name of ['scheduler', 'slaMonitor']) {
      const { role } = lambdaOf(name);
      expect(
        queueGrants(api, role).send.filter((q) => q.includes('spot') || q.includes('dedicated')),
      ).toEqual(['openbatch-dev-dedicated', 'openbatch-dev-spot', ...largeQueues].sort());
    }
  });
});

describe('monitoring stack', () => {
  const alarmNames = (s: ReturnType<typeof synth>) =>
    Object.values(resourcesOf(tpl(s, s.stacks.monitoring), 'AWS::CloudWatch::Alarm')).map(
      (r) => r.Properties?.AlarmName as string,
    );

  it("alarms on the second group's queues, DLQs and worker shortfall like the default group's", () => {
    const names = alarmNames(two);
    for (const pool of ['spot', 'dedicated'])
      for (const kind of [
        'Queue-Message-Age-Max-Warning',
        'DLQ-Queue-Message-Count-Max-Critical',
        'DLQ-Queue-Message-Age-Max-Critical',
      ]) {
        expect(names).toContain(`openbatch-dev-${pool}-${kind}`);
        expect(names).toContain(`openbatch-dev-large-${pool}-${kind}`);
      }
    expect(names).toContain('openbatch-dev-large-spot-Workers-Short-Critical');
    expect(names).toContain('openbatch-dev-large-dedicated-Workers-Short-Critical');
    expect(names.length).toBe(alarmNames(one).length + 2 * 3 + 2);
  });

  it('reads the DLQ depth of the second group from its own DLQ', () => {
    const monitoring = tpl(two, two.stacks.monitoring);
    const alarm = Object.values(resourcesOf(monitoring, 'AWS::CloudWatch::Alarm')).find(
      (r) => r.Properties?.AlarmName === 'openbatch-dev-large-spot-DLQ-Queue-Message-Count-Max-Critical',
    );
    expect(JSON.stringify(alarm?.Properties)).toContain('openbatch-dev-large-spot-dlq');
  });
});
