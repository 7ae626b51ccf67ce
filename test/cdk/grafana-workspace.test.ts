import { readFileSync } from 'node:fs';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { cloudWatchReadActions, grafanaDataSource } from '../../cdk/lib/constructs/grafana-workspace.js';
import { monitoringSettings } from '../../cdk/lib/environment.js';
import { grafanaDashboardFile } from '../../cdk/lib/monitoring/grafana.js';
import { onlyResource, synth } from './support.js';

const prod = synth({ env: 'prod' });
const template = prod.template(prod.stacks.monitoring);

describe('Amazon Managed Grafana workspace (monitoring stack)', () => {
  it('is off in dev and on in staging and prod, as cdk/lib/environment.ts says', () => {
    expect(monitoringSettings.dev.grafana.enabled).toBe(false);
    const dev = synth({ env: 'dev' });
    dev.template(dev.stacks.monitoring).resourceCountIs('AWS::Grafana::Workspace', 0);
    dev.template(dev.stacks.monitoring).resourceCountIs('Custom::GrafanaDashboard', 0);
    for (const env of ['staging', 'prod'] as const) {
      const s = synth({ env });
      s.template(s.stacks.monitoring).resourceCountIs('AWS::Grafana::Workspace', 1);
    }
  });

  it('can be turned on in dev', () => {
    const dev = synth({
      env: 'dev',
      monitoring: {
        ...monitoringSettings.dev,
        grafana: { ...monitoringSettings.dev.grafana, enabled: true },
      },
    });
    dev
      .template(dev.stacks.monitoring)
      .hasResourceProperties('AWS::Grafana::Workspace', { Name: 'openbatch-dev' });
  });

  it('reads CloudWatch through its own customer-managed role, in this account only', () => {
    const role = onlyResource(template, 'AWS::IAM::Role', (p) =>
      JSON.stringify(p.AssumeRolePolicyDocument).includes('grafana.amazonaws.com'),
    );
    template.hasResourceProperties('AWS::Grafana::Workspace', {
      Name: 'openbatch-prod',
      AccountAccessType: 'CURRENT_ACCOUNT',
      PermissionType: 'CUSTOMER_MANAGED',
      AuthenticationProviders: ['AWS_SSO'],
      DataSources: ['CLOUDWATCH'],
      GrafanaVersion: monitoringSettings.prod.grafana.version,
      RoleArn: { 'Fn::GetAtt': [role.id, 'Arn'] },
    });
    expect(role.props.AssumeRolePolicyDocument).toMatchObject({
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Principal: { Service: 'grafana.amazonaws.com' },
          Condition: {
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            ArnLike: {
              'aws:SourceArn': {
                'Fn::Join': ['', ['arn:aws:grafana:us-east-1:', { Ref: 'AWS::AccountId' }, ':/workspaces/*']],
              },
            },
          },
        },
      ],
    });
    expect(role.props.Policies).toEqual([
      {
        PolicyName: 'CloudWatchRead',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: [...cloudWatchReadActions].sort(), Resource: '*' }],
        },
      },
    ]);
    expect(role.props.ManagedPolicyArns).toBeUndefined();
  });

  it('provisions the committed dashboard JSON into the workspace', () => {
    const { props } = onlyResource(template, 'Custom::GrafanaDashboard');
    const workspace = onlyResource(template, 'AWS::Grafana::Workspace');
    expect(props).toMatchObject({
      WorkspaceId: { 'Fn::GetAtt': [workspace.id, 'Id'] },
      Endpoint: { 'Fn::GetAtt': [workspace.id, 'Endpoint'] },
      DataSourceUid: grafanaDataSource.uid,
      DataSourceName: grafanaDataSource.name,
      DefaultRegion: 'us-east-1',
      Prefix: 'openbatch-prod',
      ServiceAccountName: 'openbatch-prod-provisioner',
    });
    expect(props.Dashboard).toBe(readFileSync(grafanaDashboardFile, 'utf8'));
    // CloudFormation takes templates up to 1 MB; the dashboard travels inside this one.
    expect(String(props.Dashboard).length).toBeLessThan(256 * 1024);
  });

  it('lets the provisioner manage service accounts and tokens of this workspace only', () => {
    const workspace = onlyResource(template, 'AWS::Grafana::Workspace');
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: [
              'grafana:CreateWorkspaceServiceAccount',
              'grafana:CreateWorkspaceServiceAccountToken',
              'grafana:DeleteWorkspaceServiceAccount',
              'grafana:DeleteWorkspaceServiceAccountToken',
              'grafana:ListWorkspaceServiceAccounts',
            ],
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:aws:grafana:us-east-1:',
                  { Ref: 'AWS::AccountId' },
                  ':/workspaces/',
                  { 'Fn::GetAtt': [workspace.id, 'Id'] },
                ],
              ],
            },
          },
        ]),
      },
    });
    const grafanaActions =
      JSON.stringify(template.findResources('AWS::IAM::Policy')).match(/grafana:[A-Z]\w+/g) ?? [];
    expect(new Set(grafanaActions).size).toBe(5);
  });

  it('outputs the workspace and dashboard URLs', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const workspace = onlyResource(template, 'AWS::Grafana::Workspace');
    const dashboard = Object.keys(template.findResources('Custom::GrafanaDashboard'))[0];
    expect(outputs.GrafanaUrl?.Value).toEqual({
      'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [workspace.id, 'Endpoint'] }]],
    });
    expect(outputs.GrafanaDashboardUrl?.Value).toEqual({ 'Fn::GetAtt': [dashboard, 'DashboardUrl'] });
  });
});
