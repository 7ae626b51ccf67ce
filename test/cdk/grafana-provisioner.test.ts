import {
  CreateWorkspaceServiceAccountCommand,
  CreateWorkspaceServiceAccountTokenCommand,
  DeleteWorkspaceServiceAccountCommand,
  DeleteWorkspaceServiceAccountTokenCommand,
  GrafanaClient,
  ListWorkspaceServiceAccountsCommand,
} from '@aws-sdk/client-grafana';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderGrafanaDashboard } from '../../cdk/bin/grafana.js';
import {
  GrafanaApiError,
  onEvent,
  type ProvisionerDeps,
  type ProvisionerEvent,
  type ProvisionerProperties,
  tokenSeconds,
} from '../../cdk/lib/constructs/grafana-provisioner.js';

const grafana = mockClient(GrafanaClient);
const secret = 'glsa_secret-token-value';

const properties: ProvisionerProperties = {
  WorkspaceId: 'g-0123456789',
  Endpoint: 'g-0123456789.grafana-workspace.us-east-1.amazonaws.com',
  Dashboard: renderGrafanaDashboard(),
  DataSourceUid: 'openbatch-cloudwatch',
  DataSourceName: 'CloudWatch (openbatch)',
  DefaultRegion: 'eu-west-1',
  Prefix: 'openbatch-staging',
  ServiceAccountName: 'openbatch-prod-provisioner',
};

const event = (RequestType: ProvisionerEvent['RequestType'], props = properties): ProvisionerEvent => ({
  RequestType,
  ResourceProperties: props,
  ...(RequestType === 'Create' ? {} : { PhysicalResourceId: 'g-0123456789/openbatch' }),
});

interface Call {
  method: string;
  url: string;
  auth: string | null;
  body: Record<string, unknown> | undefined;
}

/** A Grafana HTTP API double: answers by method and path, records every call. */
function fakeGrafana(answers: Record<string, { status: number; body?: unknown }>) {
  const calls: Call[] = [];
  const fetch = (async (url: string | URL, init?: RequestInit) => {
    const method = init?.method ?? 'GET';
    const path = new URL(String(url)).pathname;
    calls.push({
      method,
      url: String(url),
      auth: new Headers(init?.headers).get('authorization'),
      body: init?.body ? (JSON.parse(String(init.body)) as Record<string, unknown>) : undefined,
    });
    const answer = answers[`${method} ${path}`] ?? { status: 200, body: {} };
    return new Response(answer.body === undefined ? '' : JSON.stringify(answer.body), {
      status: answer.status,
    });
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

function deps(fetch: typeof globalThis.fetch, logs: string[] = []): ProvisionerDeps {
  return {
    grafana: new GrafanaClient({ region: 'us-east-1' }),
    fetch,
    log: (message, detail) => logs.push(`${message} ${JSON.stringify(detail ?? {})}`),
  };
}

beforeEach(() => {
  grafana
    .on(ListWorkspaceServiceAccountsCommand)
    .resolves({ serviceAccounts: [], workspaceId: 'g-0123456789' });
  grafana.on(CreateWorkspaceServiceAccountCommand).resolves({ id: 'sa-1', name: 'x', grafanaRole: 'ADMIN' });
  grafana
    .on(CreateWorkspaceServiceAccountTokenCommand)
    .resolves({ serviceAccountToken: { id: 'tok-1', name: 'provision', key: secret } });
  grafana.on(DeleteWorkspaceServiceAccountTokenCommand).resolves({});
  grafana.on(DeleteWorkspaceServiceAccountCommand).resolves({});
});

afterEach(() => {
  grafana.reset();
});

describe('Grafana provisioner (custom resource)', () => {
  it('on create: a service account, a short-lived token, the data source and the dashboard, then the token goes', async () => {
    const api = fakeGrafana({
      'GET /api/datasources/uid/openbatch-cloudwatch': { status: 404, body: { message: 'not found' } },
      'POST /api/dashboards/db': { status: 200, body: { url: '/d/openbatch/openbatch', uid: 'openbatch' } },
    });
    const logs: string[] = [];
    const result = await onEvent(event('Create'), deps(api.fetch, logs));

    expect(grafana.commandCalls(CreateWorkspaceServiceAccountCommand)[0]?.args[0].input).toEqual({
      workspaceId: 'g-0123456789',
      name: 'openbatch-prod-provisioner',
      grafanaRole: 'ADMIN',
    });
    expect(grafana.commandCalls(CreateWorkspaceServiceAccountTokenCommand)[0]?.args[0].input).toMatchObject({
      workspaceId: 'g-0123456789',
      serviceAccountId: 'sa-1',
      secondsToLive: tokenSeconds,
    });
    expect(api.calls.map((c) => `${c.method} ${new URL(c.url).pathname}`)).toEqual([
      'GET /api/datasources/uid/openbatch-cloudwatch',
      'POST /api/datasources',
      'POST /api/dashboards/db',
    ]);
    for (const c of api.calls) {
      expect(c.url.startsWith(`https://${properties.Endpoint}/`)).toBe(true);
      expect(c.auth).toBe(`Bearer ${secret}`);
    }
    expect(api.calls[1]?.body).toEqual({
      uid: 'openbatch-cloudwatch',
      name: 'CloudWatch (openbatch)',
      type: 'cloudwatch',
      access: 'proxy',
      jsonData: { authType: 'ec2_iam_role', defaultRegion: 'eu-west-1' },
    });
    const saved = api.calls[2]?.body as {
      dashboard: {
        id: unknown;
        uid: string;
        panels: unknown[];
        templating: { list: Record<string, unknown>[] };
      };
      overwrite: boolean;
    };
    expect(saved.overwrite).toBe(true);
    expect(saved.dashboard.id).toBeNull();
    expect(saved.dashboard.uid).toBe('openbatch');
    expect(saved.dashboard.panels).toEqual(JSON.parse(properties.Dashboard).panels);
    const current = (name: string) => saved.dashboard.templating.list.find((v) => v.name === name)?.current;
    expect(current('datasource')).toEqual({ text: 'CloudWatch (openbatch)', value: 'openbatch-cloudwatch' });
    expect(current('region')).toEqual({ text: 'eu-west-1', value: 'eu-west-1' });
    expect(current('prefix')).toEqual({ text: 'openbatch-staging', value: 'openbatch-staging' });
    expect(grafana.commandCalls(DeleteWorkspaceServiceAccountTokenCommand)[0]?.args[0].input).toEqual({
      workspaceId: 'g-0123456789',
      serviceAccountId: 'sa-1',
      tokenId: 'tok-1',
    });
    expect(result).toEqual({
      PhysicalResourceId: 'g-0123456789/openbatch',
      Data: {
        DashboardUrl: `https://${properties.Endpoint}/d/openbatch/openbatch`,
        DashboardUid: 'openbatch',
      },
    });
    expect(logs.join('\n')).not.toContain(secret);
  });

  it('on update: reuses the service account and updates the data source in place', async () => {
    grafana.on(ListWorkspaceServiceAccountsCommand).resolvesOnce({
      serviceAccounts: [{ id: 'sa-0', name: 'someone-else', grafanaRole: 'VIEWER', isDisabled: 'false' }],
      nextToken: 'page-2',
      workspaceId: 'g-0123456789',
    });
    grafana.on(ListWorkspaceServiceAccountsCommand, { nextToken: 'page-2' }).resolves({
      serviceAccounts: [
        { id: 'sa-7', name: 'openbatch-prod-provisioner', grafanaRole: 'ADMIN', isDisabled: 'false' },
      ],
      workspaceId: 'g-0123456789',
    });
    const api = fakeGrafana({
      'GET /api/datasources/uid/openbatch-cloudwatch': { status: 200, body: { uid: 'openbatch-cloudwatch' } },
    });
    await onEvent(event('Update'), deps(api.fetch));
    expect(grafana.commandCalls(CreateWorkspaceServiceAccountCommand)).toHaveLength(0);
    expect(
      grafana.commandCalls(CreateWorkspaceServiceAccountTokenCommand)[0]?.args[0].input.serviceAccountId,
    ).toBe('sa-7');
    expect(api.calls.map((c) => `${c.method} ${new URL(c.url).pathname}`)).toEqual([
      'GET /api/datasources/uid/openbatch-cloudwatch',
      'PUT /api/datasources/uid/openbatch-cloudwatch',
      'POST /api/dashboards/db',
    ]);
  });

  it('fails the deploy when Grafana refuses the dashboard, and still deletes the token', async () => {
    const api = fakeGrafana({
      'GET /api/datasources/uid/openbatch-cloudwatch': { status: 200, body: {} },
      'POST /api/dashboards/db': { status: 400, body: { message: 'Dashboard title cannot be empty' } },
    });
    await expect(onEvent(event('Create'), deps(api.fetch))).rejects.toThrow(GrafanaApiError);
    await expect(onEvent(event('Create'), deps(api.fetch))).rejects.toThrow(/400.*title cannot be empty/);
    expect(grafana.commandCalls(DeleteWorkspaceServiceAccountTokenCommand)).toHaveLength(2);
  });

  it('refuses a dashboard that is not a Grafana dashboard, and missing properties', async () => {
    const api = fakeGrafana({});
    await expect(
      onEvent(event('Create', { ...properties, Dashboard: '{"title":"x"}' }), deps(api.fetch)),
    ).rejects.toThrow(/not a Grafana dashboard/);
    await expect(
      onEvent(event('Create', { ...properties, WorkspaceId: '', Endpoint: '' }), deps(api.fetch)),
    ).rejects.toThrow('Missing properties: WorkspaceId, Endpoint');
  });

  it('on delete: removes the dashboard and the service account', async () => {
    grafana.on(ListWorkspaceServiceAccountsCommand).resolves({
      serviceAccounts: [
        { id: 'sa-7', name: 'openbatch-prod-provisioner', grafanaRole: 'ADMIN', isDisabled: 'false' },
      ],
      workspaceId: 'g-0123456789',
    });
    const api = fakeGrafana({});
    const result = await onEvent(event('Delete'), deps(api.fetch));
    expect(api.calls.map((c) => `${c.method} ${new URL(c.url).pathname}`)).toEqual([
      'DELETE /api/dashboards/uid/openbatch',
    ]);
    expect(grafana.commandCalls(DeleteWorkspaceServiceAccountCommand)[0]?.args[0].input).toEqual({
      workspaceId: 'g-0123456789',
      serviceAccountId: 'sa-7',
    });
    expect(result).toEqual({ PhysicalResourceId: 'g-0123456789/openbatch' });
  });

  it('on delete: never blocks the stack when the workspace is already gone', async () => {
    grafana.on(ListWorkspaceServiceAccountsCommand).rejects(new Error('ResourceNotFoundException'));
    const logs: string[] = [];
    const result = await onEvent(event('Delete'), deps(fakeGrafana({}).fetch, logs));
    expect(result).toEqual({ PhysicalResourceId: 'g-0123456789/openbatch' });
    expect(logs[0]).toMatch(/ResourceNotFoundException/);
  });
});
