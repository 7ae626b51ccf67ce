import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  configProblems,
  type EnvironmentConfig,
  engineStartup,
  environmentNames,
  environments,
  recommendedGpuAmiParameter,
  vcpuQuota,
} from '../../cdk/config.js';
import { ensurePortalDist } from '../../cdk/lib/stacks/portal-stack.js';
import { ensurePortalBuilt } from '../../portal/scripts/ensure-built.js';
import { configWith, onlyResource, resourcesOf, root, synth } from './support.js';

/**
 * The first deploy of an environment into an empty account: what CloudFormation, ECS, ECR and
 * IAM need for it to succeed, and for a failed one to be retried. Verified by synthesis only
 * (docs/deploy.md says which behaviours that leaves unproven).
 */
const prod = synth({ env: 'prod' });
const dev = synth({ env: 'dev' });
const compute = prod.template(prod.stacks.compute as Stack);
const deployDoc = readFileSync(resolve(root, 'docs/deploy.md'), 'utf8');
/** The table rows of docs/deploy.md, cells trimmed (the formatter pads them). */
const docRows = deployDoc
  .split('\n')
  .filter((l) => l.startsWith('|'))
  .map((l) =>
    l
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim())
      .join(' | '),
  );

type Statement = { Action: string | string[]; Resource: unknown; Condition?: Record<string, unknown> };
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** The statements of the policies attached to a role (by logical id). */
function statementsOf(t: Template, roleId: string): Statement[] {
  return Object.values(resourcesOf(t, 'AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties?.Roles).includes(`"${roleId}"`))
    .flatMap(
      (p) => (p.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [],
    );
}

function taskOf(t: Template, env: string, pool: string) {
  return onlyResource(t, 'AWS::ECS::TaskDefinition', (p) => p.Family === `openbatch-${env}-${pool}-workers`)
    .props as {
    TaskRoleArn: { 'Fn::GetAtt': [string] };
    ExecutionRoleArn: { 'Fn::GetAtt': [string] };
    ContainerDefinitions: {
      Name: string;
      Image: unknown;
      Essential?: boolean;
      EntryPoint?: string[];
      Command?: string[];
      Environment?: { Name: string; Value: unknown }[];
      DependsOn?: { ContainerName: string; Condition: string }[];
      MountPoints?: { ContainerPath: string; SourceVolume: string; ReadOnly: boolean }[];
      StartTimeout?: number;
      HealthCheck?: { StartPeriod: number; Interval: number; Retries: number };
    }[];
    Volumes: { Name: string; Host: { SourcePath: string } }[];
  };
}
const container = (task: ReturnType<typeof taskOf>, name: string) =>
  task.ContainerDefinitions.find((c) => c.Name === name) as ReturnType<
    typeof taskOf
  >['ContainerDefinitions'][number];
const envOf = (c: { Environment?: { Name: string; Value: unknown }[] }) =>
  Object.fromEntries((c.Environment ?? []).map((e) => [e.Name, e.Value]));

function serviceOf(t: Template, env: string, pool: string) {
  return onlyResource(t, 'AWS::ECS::Service', (p) => p.ServiceName === `openbatch-${env}-${pool}-workers`);
}

describe('1. desired count at create', () => {
  it.each(['spot', 'dedicated'])(
    '%s: the service starts with no task, deploys without a spare GPU, and scaling owns the count',
    (pool) => {
      const service = serviceOf(compute, 'prod', pool);
      expect(service.props.DesiredCount).toBe(0);
      expect(service.props.DeploymentConfiguration).toMatchObject({
        MinimumHealthyPercent: 0,
        MaximumPercent: 100,
      });
      const target = onlyResource(compute, 'AWS::ApplicationAutoScaling::ScalableTarget', (p) =>
        JSON.stringify(p.ResourceId).includes(service.id),
      );
      expect(target.props.MinCapacity).toBe(environments.prod.pools[pool as 'spot'].minWorkers);
    },
  );

  it('keeps minWorkers as the scaling minimum while the service is still created with none', () => {
    const warm = synth({
      config: configWith(environments.prod, (c) => {
        c.pools = { ...c.pools, dedicated: { ...c.pools.dedicated, minWorkers: 1 } };
      }),
    });
    const t = warm.template(warm.stacks.compute as Stack);
    const service = serviceOf(t, 'prod', 'dedicated');
    expect(service.props.DesiredCount).toBe(0);
    const target = onlyResource(t, 'AWS::ApplicationAutoScaling::ScalableTarget', (p) =>
      JSON.stringify(p.ResourceId).includes(service.id),
    );
    expect(target.props.MinCapacity).toBe(1);
  });
});

describe('2. Spot instance draining', () => {
  const instanceRole = (spot: boolean) => {
    const roles = Object.entries(resourcesOf(compute, 'AWS::IAM::Role')).filter(([id]) =>
      id.startsWith(spot ? 'SpotPoolInstanceRole' : 'DedicatedPoolInstanceRole'),
    );
    return roles[0]?.[0] as string;
  };

  it('lets the Spot instances mark themselves DRAINING, in this cluster only', () => {
    const drain = statementsOf(compute, instanceRole(true)).filter((s) =>
      actions(s).includes('ecs:UpdateContainerInstancesState'),
    );
    expect(drain).toHaveLength(1);
    expect(drain[0]?.Condition).toEqual({
      ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [expect.stringMatching(/^Cluster/), 'Arn'] } },
    });
  });

  it('grants it only where Spot draining is turned on', () => {
    expect(
      statementsOf(compute, instanceRole(false)).some((s) =>
        actions(s).includes('ecs:UpdateContainerInstancesState'),
      ),
    ).toBe(false);
  });
});

describe('3. task scale-in protection and the instance metadata', () => {
  it.each(['spot', 'dedicated'])(
    "%s: the worker's task may protect itself, and only tasks of its cluster",
    (pool) => {
      const task = taskOf(compute, 'prod', pool);
      const protection = statementsOf(compute, task.TaskRoleArn['Fn::GetAtt'][0]).filter((s) =>
        actions(s).some((a) => a.includes('TaskProtection')),
      );
      expect(protection).toHaveLength(1);
      expect(actions(protection[0] as Statement).sort()).toEqual([
        'ecs:GetTaskProtection',
        'ecs:UpdateTaskProtection',
      ]);
      const resource = JSON.stringify(protection[0]?.Resource);
      expect(resource).toContain(':task/');
      expect(resource).toMatch(/"Ref":"Cluster[0-9A-F]+"\},"\/\*"/);
    },
  );

  it('keeps the instance metadata out of the containers’ reach (IMDSv2, one hop), as docs/deploy.md decides', () => {
    for (const lt of Object.values(resourcesOf(compute, 'AWS::EC2::LaunchTemplate')))
      expect(
        (lt.Properties?.LaunchTemplateData as { MetadataOptions: unknown } | undefined)?.MetadataOptions,
      ).toEqual({
        HttpTokens: 'required',
        HttpPutResponseHopLimit: 1,
      });
    expect(deployDoc).toContain('## Scale-in protection and spot reclaims');
    expect(deployDoc).toMatch(/hop limit/i);
  });
});

describe('4. the engine image comes from private ECR', () => {
  it('pulls every task image from the account’s own registry, never from Docker Hub', () => {
    for (const pool of ['spot', 'dedicated']) {
      const task = taskOf(compute, 'prod', pool);
      for (const name of ['engine', 'model-sync']) {
        const image = JSON.stringify(container(task, name).Image);
        expect(image, name).toContain('.dkr.ecr.');
        expect(image).toContain('AWS::AccountId');
      }
    }
    expect(JSON.stringify(compute.toJSON())).not.toMatch(/docker\.io|registry-1\.docker|"vllm\/vllm-openai:/);
  });

  it('lets the execution role fill the pull-through cache repositories, and only those', () => {
    const task = taskOf(compute, 'prod', 'spot');
    const importing = statementsOf(compute, task.ExecutionRoleArn['Fn::GetAtt'][0]).filter((s) =>
      actions(s).includes('ecr:BatchImportUpstreamImage'),
    );
    const repositories = importing.flatMap((s) => [JSON.stringify(s.Resource)]);
    expect(repositories.join()).toContain(`repository/${environments.prod.engine.image.repository}`);
    expect(repositories.join()).toContain(
      `repository/${environments.prod.instances.modelSyncImage.repository}`,
    );
    for (const s of importing) {
      expect(actions(s)).toEqual(
        expect.arrayContaining(['ecr:BatchImportUpstreamImage', 'ecr:CreateRepository']),
      );
      const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
      for (const r of resources) expect(JSON.stringify(r)).toMatch(/:repository\/(docker-hub|ecr-public)\//);
    }
  });

  it.each(environmentNames)('%s: names its images per environment in cdk/config.ts, pinned', (env) => {
    const { image } = environments[env].engine;
    expect(image.repository).toMatch(/^docker-hub\//);
    expect(image.pullThroughCache).toBe(true);
    expect(image.tag).not.toBe('latest');
    const anonymous = configWith(environments[env], (c) => {
      c.engine = { ...c.engine, image: 'vllm/vllm-openai:v0.11.0' as never };
    });
    expect(configProblems(anonymous).join()).toMatch(/engine\.image: a private ECR repository/);
  });
});

describe('5. model files from S3, and a start-up that fits the health window', () => {
  it.each(['spot', 'dedicated'])(
    '%s: an init container copies the model from S3 before the engine starts',
    (pool) => {
      const task = taskOf(compute, 'prod', pool);
      const sync = container(task, 'model-sync');
      const engine = container(task, 'engine');
      expect(sync.Essential).toBe(false);
      expect(sync.Command?.join(' ')).toContain(
        'aws s3 sync "s3://$MODELS_BUCKET/$MODEL_PREFIX/" "$MODEL_DIR/"',
      );
      expect(envOf(sync).MODEL_PREFIX).toBe(environments.prod.engine.model);
      expect(JSON.stringify(envOf(sync).MODELS_BUCKET)).toContain('openbatch-prod-models-');
      expect(sync.StartTimeout).toBe(engineStartup(environments.prod).syncTimeoutSeconds);
      expect(engine.DependsOn).toEqual([{ ContainerName: 'model-sync', Condition: 'SUCCESS' }]);
      // The instance volume holds the files and the compile cache for every task on the instance.
      expect(task.Volumes).toEqual([{ Name: 'models', Host: { SourcePath: '/var/cache/openbatch' } }]);
      for (const c of [sync, engine]) expect(c.MountPoints?.[0]?.ContainerPath).toBe('/models');
      expect(envOf(engine)).toMatchObject({ HF_HUB_OFFLINE: '1', VLLM_CACHE_ROOT: '/models/vllm-cache' });
      expect(engine.Command?.[0]).toBe(`/models/weights/${environments.prod.engine.model}`);
    },
  );

  it('reads the model read-only, under its own prefix of the models bucket', () => {
    const task = taskOf(compute, 'prod', 'spot');
    const s3 = statementsOf(compute, task.TaskRoleArn['Fn::GetAtt'][0]).filter((s) =>
      JSON.stringify(s.Resource).includes('openbatch-prod-models-'),
    );
    expect(s3.flatMap(actions).sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
    const get = s3.find((s) => actions(s).includes('s3:GetObject'));
    expect(JSON.stringify(get?.Resource)).toContain(`/${environments.prod.engine.model}/*`);
    const list = s3.find((s) => actions(s).includes('s3:ListBucket'));
    expect(list?.Condition).toEqual({ StringLike: { 's3:prefix': [`${environments.prod.engine.model}/*`] } });
  });

  it('keeps the models bucket in the data stack, emptied with it in dev', () => {
    const data = prod.template(prod.stacks.data);
    const bucket = onlyResource(data, 'AWS::S3::Bucket', (p) =>
      JSON.stringify(p.BucketName ?? '').includes('openbatch-prod-models-'),
    );
    expect(bucket.props.PublicAccessBlockConfiguration).toMatchObject({ BlockPublicAcls: true });
    expect(resourcesOf(data, 'AWS::S3::Bucket')[bucket.id]?.DeletionPolicy).toBe('Retain');
  });

  it.each(environmentNames)(
    '%s: reading the model and starting the engine fit in startPeriod + retries × interval',
    (env) => {
      const c = environments[env];
      const s = engineStartup(c);
      expect(s.readSeconds).toBe(
        Math.ceil((c.engine.weights.sizeGiB * 1024) / c.instances.volumeThroughputMiBps),
      );
      expect(s.requiredSeconds).toBeLessThanOrEqual(s.windowSeconds);
      // The engine's health check is the configured window.
      const engine = container(
        taskOf(synth({ env }).template(synth({ env }).stacks.compute as Stack), env, 'spot'),
        'engine',
      );
      expect(engine.HealthCheck).toMatchObject({
        StartPeriod: c.engine.health.startPeriodSeconds,
        Interval: c.engine.health.intervalSeconds,
        Retries: c.engine.health.retries,
      });
      // docs/deploy.md prints the same arithmetic.
      expect(docRows).toContain(
        `${env} | ${c.engine.model} | ${c.engine.weights.sizeGiB} GiB | ${c.instances.volumeThroughputMiBps} MiB/s | ${s.copySeconds} s | ${s.readSeconds} s | ${c.engine.startupSeconds} s | ${s.requiredSeconds} s | ${s.windowSeconds} s`,
      );
    },
  );

  it('refuses a volume too slow for the model, or gp3 settings gp3 does not take', () => {
    const slow = configWith(environments.prod, (c) => {
      c.instances = { ...c.instances, volumeThroughputMiBps: 125 };
      c.engine = { ...c.engine, weights: { sizeGiB: 60 }, startupSeconds: 300 };
    });
    expect(configProblems(slow).join('\n')).toMatch(
      /engine\.health: the engine needs about 792 s .* gives it 600 s/,
    );
    const bad = configWith(environments.prod, (c) => {
      c.instances = { ...c.instances, volumeThroughputMiBps: 900, volumeIops: 3000, volumeGiB: 80 };
      c.engine = { ...c.engine, health: { ...c.engine.health, startPeriodSeconds: 600 } };
    });
    const problems = configProblems(bad).join('\n');
    expect(problems).toMatch(
      /instances\.volumeThroughputMiBps: gp3 allows at most 0\.25 MiB\/s per provisioned IOPS/,
    );
    expect(problems).toMatch(/instances\.volumeGiB: at least 95/);
    expect(problems).toMatch(/engine\.health\.startPeriodSeconds: between 0 and 300/);
  });
});

describe('6. log groups survive a failed first create', () => {
  it.each(environmentNames)(
    '%s: no retained log group has a fixed name that a re-create would collide with',
    (env) => {
      const { app } = synth({ env });
      for (const stack of app.node.children.filter((c): c is Stack => 'templateOptions' in c)) {
        for (const [id, group] of Object.entries(
          resourcesOf(synth({ env }).template(stack), 'AWS::Logs::LogGroup'),
        )) {
          const name = group.Properties?.LogGroupName;
          if (name === undefined) continue;
          // A name that must be fixed (API Gateway's execution logs, CDK's BucketDeployment
          // handler's /aws/lambda/<function>) carries the id of a resource of the same stack,
          // which a re-created stack does not share.
          expect(JSON.stringify(name), `${stack.stackName}/${id}`).toMatch(/"Ref":"(?!AWS::)[A-Za-z0-9]+"/);
        }
      }
    },
  );
});

describe('7. the capacity provider is associated before the service uses it', () => {
  it.each(['spot', 'dedicated'])(
    '%s: the service DependsOn the ClusterCapacityProviderAssociations',
    (pool) => {
      const [association] = Object.keys(
        resourcesOf(compute, 'AWS::ECS::ClusterCapacityProviderAssociations'),
      );
      expect(association).toBeDefined();
      const service = serviceOf(compute, 'prod', pool);
      expect(resourcesOf(compute, 'AWS::ECS::Service')[service.id]?.DependsOn).toContain(association);
    },
  );
});

describe('8. the portal is built when the app is synthesized', () => {
  it('builds portal/dist before an AWS synthesis (cdk/bin/app.ts), so the portal stack deploys it', () => {
    const app = readFileSync(resolve(root, 'cdk/bin/app.ts'), 'utf8');
    expect(app).toMatch(/if \(target === 'aws'\) ensurePortalDist\(root, ensurePortalBuilt\);/);
    // What that call does, here: build when stale, then hand the directory to the portal stack.
    const dist = ensurePortalDist(root, ensurePortalBuilt);
    expect(existsSync(join(dist, 'index.html'))).toBe(true);
    const synthesized = synth({ env: 'dev', portalDist: dist });
    const deploy = onlyResource(
      synthesized.template(synthesized.stacks.portal as Stack),
      'Custom::CDKBucketDeployment',
    );
    expect((deploy.props.SourceObjectKeys as unknown[]).length).toBe(2);
    expect(deploy.props.Prune).toBe(true);
  }, 120_000);

  it('fails the synthesis with a message that says what to run when the portal cannot be built', () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-portal-'));
    expect(() =>
      ensurePortalDist(empty, () => {
        throw new Error('Cannot find module vite');
      }),
    ).toThrow(/building it failed: Cannot find module vite\nRun `npm install` and `npm run portal:build`/);
    expect(() => ensurePortalDist(empty, () => {})).toThrow(/wrote no .*index\.html/);
  });
});

describe('9. the GPU AMI per environment', () => {
  const imageIdOf = (config: EnvironmentConfig) => {
    const s = synth({ config });
    const t = s.template(s.stacks.compute as Stack);
    const lt = Object.values(resourcesOf(t, 'AWS::EC2::LaunchTemplate'))[0];
    return { imageId: (lt?.Properties?.LaunchTemplateData as { ImageId: unknown } | undefined)?.ImageId, t };
  };

  it('defaults to the ECS GPU-optimized AMI AWS recommends, from its SSM parameter', () => {
    expect(environments.prod.instances.ami).toBeUndefined();
    expect(JSON.stringify(compute.findParameters('*'))).toContain(recommendedGpuAmiParameter);
  });

  it('pins an AMI id, or reads another SSM parameter, where configured', () => {
    const pinned = imageIdOf(
      configWith(environments.prod, (c) => {
        c.instances = { ...c.instances, ami: { id: 'ami-0123456789abcdef0' } };
      }),
    );
    expect(pinned.imageId).toBe('ami-0123456789abcdef0');
    expect(JSON.stringify(pinned.t.findParameters('*'))).not.toContain('recommended');
    const parameter = imageIdOf(
      configWith(environments.prod, (c) => {
        c.instances = { ...c.instances, ami: { ssmParameter: '/platform/gpu-ami/approved' } };
      }),
    );
    expect(JSON.stringify(parameter.t.findParameters('*'))).toContain('/platform/gpu-ami/approved');
    const bad = configWith(environments.prod, (c) => {
      c.instances = { ...c.instances, ami: { id: 'ubuntu' } };
    });
    expect(configProblems(bad)).toContain("instances.ami.id: 'ubuntu' is not an AMI id");
  });
});

describe('10. quotas, teardown, key policy, execution logs', () => {
  it.each(environmentNames)('%s: docs/deploy.md states the vCPU quota each pool can reach', (env) => {
    const q = vcpuQuota(environments[env]);
    expect(docRows).toContain(
      `${env} | ${q.spot.maxWorkers} × ${q.spot.largest} | ${q.spot.vcpus} | ${q.dedicated.maxWorkers} × ${q.dedicated.largest} | ${q.dedicated.vcpus}`,
    );
  });

  it('computes the prod figures from the largest type of each pool', () => {
    expect(vcpuQuota(environments.prod)).toMatchObject({
      spot: { vcpus: 20 * 16, quota: 'All G and VT Spot Instance Requests' },
      dedicated: { vcpus: 6 * 8, quota: 'Running On-Demand G and VT instances' },
    });
  });

  it('empties every bucket on stack deletion in dev only', () => {
    for (const [env, synthesized] of [
      ['dev', dev],
      ['prod', prod],
    ] as const) {
      for (const stack of [synthesized.stacks.data, synthesized.stacks.portal as Stack]) {
        const t = synthesized.template(stack);
        const buckets = Object.keys(resourcesOf(t, 'AWS::S3::Bucket'));
        const emptied = Object.values(resourcesOf(t, 'Custom::S3AutoDeleteObjects')).map((r) =>
          JSON.stringify(r.Properties?.BucketName),
        );
        if (env === 'dev') {
          for (const id of buckets)
            expect(
              emptied.some((b) => b.includes(`"${id}"`)),
              `${stack.stackName} ${id}`,
            ).toBe(true);
          for (const r of Object.values(resourcesOf(t, 'AWS::S3::Bucket')))
            expect(r.DeletionPolicy).toBe('Delete');
        } else expect(emptied).toEqual([]);
      }
    }
  });

  it("lets CloudWatch use the alarm topic's key only for this account's alarms of this environment", () => {
    const t = prod.template(prod.stacks.monitoring);
    const key = onlyResource(t, 'AWS::KMS::Key');
    const statement = (
      key.props.KeyPolicy as { Statement: (Statement & { Principal: unknown })[] }
    ).Statement.find((s) => JSON.stringify(s.Principal).includes('cloudwatch.amazonaws.com'));
    expect(statement?.Condition?.StringEquals).toEqual({ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    expect(JSON.stringify(statement?.Condition?.ArnLike)).toMatch(
      /aws:SourceArn.*:cloudwatch:.*:alarm:openbatch-prod-\*/,
    );
  });

  it('creates the API Gateway execution log group with retention, before the stage can log', () => {
    const t = prod.template(prod.stacks.api);
    const [id, group] = Object.entries(resourcesOf(t, 'AWS::Logs::LogGroup')).find(([, g]) =>
      JSON.stringify(g.Properties?.LogGroupName ?? '').includes('API-Gateway-Execution-Logs_'),
    ) as [string, { Properties: Record<string, unknown> }];
    expect(group.Properties.RetentionInDays).toBe(environments.prod.logRetentionDays);
    expect(JSON.stringify(group.Properties.LogGroupName)).toContain(`"/${environments.prod.name}"`);
    const stage = Object.values(resourcesOf(t, 'AWS::ApiGateway::Stage'))[0];
    expect(stage?.DependsOn).toContain(id);
  });
});
