import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Stack, Token } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { environmentNames, environments } from '../../cdk/config.js';
import { configWith, root, synth } from './support.js';

describe('the CDK app', () => {
  it('is run by the CDK CLI from cdk.json, and npm run synth synthesizes every environment', () => {
    const cdkJson = JSON.parse(readFileSync(resolve(root, 'cdk.json'), 'utf8')) as { app: string };
    expect(cdkJson.app).toBe('npx tsx cdk/bin/app.ts');
    const scripts = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')).scripts as Record<
      string,
      string
    >;
    expect(scripts.synth).toMatch(/cdk synth -c env=all/);
  });

  it.each(environmentNames)('%s: five stacks split by lifecycle', (env) => {
    const { app } = synth({ env });
    expect(app.node.children.filter((c) => c instanceof Stack).map((c) => c.node.id)).toEqual(
      ['data', 'api', 'compute', 'portal', 'monitoring'].map((role) => `openbatch-${env}-${role}`),
    );
  });

  it('lets each stack deploy alone: no CloudFormation exports between stacks', () => {
    const { app, stacks, template } = synth({ env: 'prod' });
    for (const stack of app.node.children.filter((c): c is Stack => c instanceof Stack)) {
      const json = JSON.stringify(template(stack).toJSON());
      expect(json, stack.stackName).not.toContain('Fn::ImportValue');
      expect(
        Object.values(template(stack).toJSON().Outputs ?? {}).some((o) => (o as { Export?: unknown }).Export),
      ).toBe(false);
    }
    // Dependencies only order `cdk deploy --all`.
    expect(stacks.api.dependencies.map((s) => s.stackName)).toEqual(['openbatch-prod-data']);
    expect(stacks.compute?.dependencies.map((s) => s.stackName)).toEqual(['openbatch-prod-data']);
    expect(stacks.portal?.dependencies.map((s) => s.stackName)).toEqual(['openbatch-prod-api']);
    expect(stacks.monitoring.dependencies).toEqual([]);
  });

  it('protects stateful stacks from deletion where data is kept', () => {
    expect(synth({ env: 'prod' }).stacks.data.terminationProtection).toBe(true);
    expect(synth({ env: 'dev' }).stacks.data.terminationProtection).toBe(false);
  });

  it('tags every stack with the project and environment', () => {
    const { stacks, template } = synth({ env: 'staging' });
    const tags = template(stacks.data).findResources('AWS::DynamoDB::Table');
    for (const t of Object.values(tags))
      expect(t.Properties.Tags).toEqual(
        expect.arrayContaining([
          { Key: 'project', Value: 'openbatch' },
          { Key: 'environment', Value: 'staging' },
        ]),
      );
  });

  it('is account-agnostic unless an account is configured', () => {
    const agnostic = synth({ env: 'prod' }).stacks.data;
    expect(agnostic.region).toBe('us-east-1');
    expect(Token.isUnresolved(agnostic.account)).toBe(true);
    const pinned = synth({
      config: configWith(environments.prod, (c) => void Object.assign(c, { account: '123456789012' })),
    });
    expect(pinned.stacks.data.account).toBe('123456789012');
  });
});
