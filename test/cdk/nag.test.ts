import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { environmentNames, environments } from '../../cdk/config.js';
import { configWith, synth } from './support.js';

/**
 * cdk-nag's AwsSolutions pack over every stack of every environment (and the variants that
 * change which resources exist). `cdk synth` runs the same pack and fails on any finding.
 */
function nag(app: ReturnType<typeof synth>['app']) {
  const acknowledged = new AwsSolutionsChecks().validateScope(app).violations;
  // The same checks with acknowledgments ignored: what each acknowledgment actually hides.
  const raw = new AwsSolutionsChecks();
  (raw as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
  const all = raw.validateScope(app).violations;
  const acknowledgments: { path: string; id: string; reason: string }[] = [];
  for (const c of app.node.findAll()) {
    for (const m of c.node.metadata) {
      if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(m.data as Record<string, string>)) {
        const rule = id.replace(/^annotation::/i, '');
        if (rule.startsWith('AwsSolutions-')) acknowledgments.push({ path: c.node.path, id: rule, reason });
      }
    }
  }
  return { acknowledged, all, acknowledgments };
}

const variants = {
  ...Object.fromEntries(environmentNames.map((n) => [n, synth({ env: n })])),
  'prod with a custom domain, an alarm email and a pinned AMI': synth({
    config: configWith(environments.prod, (c) => {
      c.domain = {
        name: 'batch.example.com',
        certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
      };
      c.alarms = { ...c.alarms, email: 'ops@example.com' };
      c.instances = { ...c.instances, ami: { id: 'ami-0123456789abcdef0' } };
    }),
  }),
  // Per-model pools: the second group's queues, services, grants and POOL_QUEUE_URLS.
  'dev with a second model on its own pool group': synth({
    config: configWith(environments.dev, (c) => {
      c.models = [{ id: 'small' }, { id: 'second', group: 'second' }];
    }),
  }),
};

describe.each(Object.entries(variants))('cdk-nag AwsSolutions: %s', (_name, synthesized) => {
  const { acknowledged, all, acknowledgments } = nag(synthesized.app);

  it('reports no finding', () => {
    expect(
      acknowledged.map(
        (v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      ),
    ).toEqual([]);
  });

  it('gives every acknowledgment a written reason', () => {
    expect(acknowledgments.length).toBeGreaterThan(0);
    for (const a of acknowledgments)
      expect(a.reason.length, `${a.id} at ${a.path}`).toBeGreaterThanOrEqual(40);
  });

  it('acknowledges only findings that occur', () => {
    const unused = acknowledgments.filter(
      (a) =>
        !all.some(
          (v) =>
            v.ruleName === a.id &&
            v.violatingResources.some(
              (r) => r.constructPath === a.path || (r.constructPath ?? '').startsWith(`${a.path}/`),
            ),
        ),
    );
    expect(unused.map((a) => `${a.id} at ${a.path}`)).toEqual([]);
  });
});
