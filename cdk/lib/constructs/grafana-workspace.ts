import { ArnFormat, CfnOutput, CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as grafana from 'aws-cdk-lib/aws-grafana';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { GrafanaConfig } from '../environment.js';
import { acknowledge, acknowledgeFindings, lambdaBasicExecutionPolicy, resourceFinding } from '../nag.js';
import { bundleTarget, lambdaRuntime } from './house-function.js';

export interface GrafanaWorkspaceProps {
  /**
   * The environment's prefix: the workspace's name, the provisioning service account's prefix,
   * and the default of the dashboard's environment variable.
   */
  readonly name: string;
  readonly grafana: GrafanaConfig;
  /** The dashboard JSON to provision (cdk/dashboards/grafana-openbatch.json). */
  readonly dashboardJson: string;
  /** The CloudWatch data source's default region (the environment's region). */
  readonly defaultRegion: string;
}

/** The CloudWatch data source the provisioner creates in the workspace. */
export const grafanaDataSource = { uid: 'openbatch-cloudwatch', name: 'CloudWatch (openbatch)' } as const;

/**
 * The CloudWatch read actions a Grafana CloudWatch data source needs (metrics, alarms, and the
 * region and resource lookups of its query editor). None of them takes a resource ARN.
 */
export const cloudWatchReadActions = [
  'cloudwatch:DescribeAlarmsForMetric',
  'cloudwatch:DescribeAlarmHistory',
  'cloudwatch:DescribeAlarms',
  'cloudwatch:ListMetrics',
  'cloudwatch:GetMetricData',
  'cloudwatch:GetInsightRuleReport',
  'ec2:DescribeRegions',
  'tag:GetResources',
] as const;

/**
 * An Amazon Managed Grafana workspace that reads this account's CloudWatch metrics through its
 * own IAM role (customer managed, so the permissions are these and no more), with the openbatch
 * dashboard provisioned into it by a custom resource that calls the Grafana HTTP API
 * (grafana-provisioner.ts). A change to the dashboard JSON re-provisions it on the next deploy.
 */
export class GrafanaWorkspace extends Construct {
  readonly workspace: grafana.CfnWorkspace;
  readonly role: iam.Role;
  readonly provisioner: nodejs.NodejsFunction;
  readonly dashboard: CustomResource;

  constructor(scope: Construct, id: string, props: GrafanaWorkspaceProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // AMG's workspace ARN has a slash before `workspaces` (Service Authorization Reference).
    const arnOf = (id: string) =>
      stack.formatArn({
        service: 'grafana',
        resource: '/workspaces',
        resourceName: id,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });

    this.role = new iam.Role(this, 'WorkspaceRole', {
      description: `Lets the ${props.name} Grafana workspace read CloudWatch`,
      assumedBy: new iam.ServicePrincipal('grafana.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': arnOf('*') },
        },
      }),
      inlinePolicies: {
        CloudWatchRead: new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: [...cloudWatchReadActions], resources: ['*'] })],
        }),
      },
    });
    acknowledgeFindings(
      this.role,
      'AwsSolutions-IAM5',
      ['Resource::*'],
      "CloudWatch's ListMetrics, GetMetricData and DescribeAlarms*, ec2:DescribeRegions and tag:GetResources accept no resource ARN: a Grafana CloudWatch data source can only be granted them on '*'.",
    );

    this.workspace = new grafana.CfnWorkspace(this, 'Workspace', {
      name: props.name,
      description: `openbatch ${props.name}: dashboards over CloudWatch`,
      accountAccessType: 'CURRENT_ACCOUNT',
      authenticationProviders: [...props.grafana.authenticationProviders],
      permissionType: 'CUSTOMER_MANAGED',
      roleArn: this.role.roleArn,
      // Informational for a customer-managed role (AMG creates no role or policy from it); the
      // provisioner creates the data source itself.
      dataSources: ['CLOUDWATCH'],
      grafanaVersion: props.grafana.version,
    });

    const workspaceArn = arnOf(this.workspace.attrId);
    const logGroup = new logs.LogGroup(this, 'ProvisionerLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.provisioner = new nodejs.NodejsFunction(this, 'Provisioner', {
      description: 'Provisions the openbatch dashboard and CloudWatch data source into the Grafana workspace',
      entry: new URL('./grafana-provisioner.ts', import.meta.url).pathname,
      handler: 'handler',
      runtime: lambdaRuntime,
      architecture: lambda.Architecture.ARM_64,
      timeout: Duration.minutes(2),
      memorySize: 256,
      logGroup,
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: bundleTarget,
        mainFields: ['module', 'main'],
        minify: true,
        externalModules: [],
        banner:
          "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
    });
    this.provisioner.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'grafana:ListWorkspaceServiceAccounts',
          'grafana:CreateWorkspaceServiceAccount',
          'grafana:DeleteWorkspaceServiceAccount',
          'grafana:CreateWorkspaceServiceAccountToken',
          'grafana:DeleteWorkspaceServiceAccountToken',
        ],
        resources: [workspaceArn],
      }),
    );
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.provisioner,
      logGroup: new logs.LogGroup(this, 'ProviderLogs', {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    });
    this.dashboard = new CustomResource(this, 'Dashboard', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::GrafanaDashboard',
      properties: {
        WorkspaceId: this.workspace.attrId,
        Endpoint: this.workspace.attrEndpoint,
        Dashboard: props.dashboardJson,
        DataSourceUid: grafanaDataSource.uid,
        DataSourceName: grafanaDataSource.name,
        DefaultRegion: props.defaultRegion,
        Prefix: props.name,
        ServiceAccountName: `${props.name}-provisioner`,
      },
    });

    acknowledge(this.provisioner, {
      id: `AwsSolutions-IAM4[${lambdaBasicExecutionPolicy}]`,
      reason:
        'AWSLambdaBasicExecutionRole lets the provisioner write its own logs; everything else it may do is the inline grant on this workspace.',
    });
    acknowledge(provider, {
      id: `AwsSolutions-IAM4[${lambdaBasicExecutionPolicy}]`,
      reason:
        "The CDK provider framework's function logs with AWSLambdaBasicExecutionRole and does nothing but invoke the provisioner.",
    });
    acknowledgeFindings(
      provider,
      'AwsSolutions-IAM5',
      [resourceFinding(this, `${this.provisioner.functionArn}:*`)],
      "CDK's provider framework grants lambda:InvokeFunction on the provisioner and its versions (`<arn>:*`); it invokes nothing else.",
    );

    // Stable output names (a construct's outputs otherwise get a hash suffix).
    new CfnOutput(this, 'Url', { value: `https://${this.workspace.attrEndpoint}` }).overrideLogicalId(
      'GrafanaUrl',
    );
    new CfnOutput(this, 'DashboardUrl', {
      value: this.dashboard.getAttString('DashboardUrl'),
    }).overrideLogicalId('GrafanaDashboardUrl');
  }
}
