/**
 * Custom resource handler (CDK provider framework `onEvent`): provisions the openbatch
 * dashboard and its CloudWatch data source into an Amazon Managed Grafana workspace through the
 * Grafana HTTP API. AMG has no CloudFormation resource for dashboards or data sources, so on each
 * create and update this function takes a short-lived token of a workspace service account,
 * upserts the data source and the dashboard, and deletes the token again. On delete it removes
 * the dashboard and the service account (best effort: the workspace may already be going).
 */
import {
  CreateWorkspaceServiceAccountCommand,
  CreateWorkspaceServiceAccountTokenCommand,
  DeleteWorkspaceServiceAccountCommand,
  DeleteWorkspaceServiceAccountTokenCommand,
  GrafanaClient,
  ListWorkspaceServiceAccountsCommand,
} from '@aws-sdk/client-grafana';

/** The custom resource's properties (strings, as CloudFormation hands them over). */
export interface ProvisionerProperties {
  readonly WorkspaceId: string;
  /** The workspace endpoint, without scheme (`g-abc.grafana-workspace.us-east-1.amazonaws.com`). */
  readonly Endpoint: string;
  /** The dashboard JSON (cdk/dashboards/grafana-openbatch.json). */
  readonly Dashboard: string;
  readonly DataSourceUid: string;
  readonly DataSourceName: string;
  readonly DefaultRegion: string;
  /** The environment's resource prefix: the dashboard's `prefix` variable defaults to it. */
  readonly Prefix: string;
  readonly ServiceAccountName: string;
}

export interface ProvisionerEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceProperties: ProvisionerProperties & { readonly ServiceToken?: string };
  readonly PhysicalResourceId?: string;
}

export interface ProvisionerResult {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

export interface ProvisionerDeps {
  readonly grafana: Pick<GrafanaClient, 'send'>;
  readonly fetch: typeof fetch;
  readonly log: (message: string, detail?: Record<string, unknown>) => void;
}

/** How long the provisioning token lives: long enough for a few HTTP calls, no longer. */
export const tokenSeconds = 900;

export class GrafanaApiError extends Error {
  override readonly name = 'GrafanaApiError';
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    body: string,
  ) {
    // Grafana's error bodies carry a message, never the token.
    super(`Grafana ${method} ${path} answered ${status}: ${body.slice(0, 300)}`);
  }
}

type Api = (method: string, path: string, body?: unknown) => Promise<{ status: number; json: unknown }>;

function required(p: ProvisionerProperties): void {
  const missing = (
    [
      'WorkspaceId',
      'Endpoint',
      'Dashboard',
      'DataSourceUid',
      'DataSourceName',
      'DefaultRegion',
      'Prefix',
      'ServiceAccountName',
    ] as const
  ).filter((k) => typeof p[k] !== 'string' || p[k] === '');
  if (missing.length > 0) throw new Error(`Missing properties: ${missing.join(', ')}`);
}

async function findServiceAccount(deps: ProvisionerDeps, workspaceId: string, name: string) {
  let nextToken: string | undefined;
  do {
    const page = await deps.grafana.send(
      new ListWorkspaceServiceAccountsCommand({ workspaceId, ...(nextToken ? { nextToken } : {}) }),
    );
    const found = page.serviceAccounts?.find((a) => a.name === name);
    if (found?.id) return found.id;
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

/** Runs `work` with a fresh token of the provisioning service account, deleting the token after. */
async function withToken<T>(deps: ProvisionerDeps, p: ProvisionerProperties, work: (api: Api) => Promise<T>) {
  const workspaceId = p.WorkspaceId;
  const serviceAccountId =
    (await findServiceAccount(deps, workspaceId, p.ServiceAccountName)) ??
    (
      await deps.grafana.send(
        new CreateWorkspaceServiceAccountCommand({
          workspaceId,
          name: p.ServiceAccountName,
          grafanaRole: 'ADMIN',
        }),
      )
    ).id;
  if (!serviceAccountId) throw new Error('AMG returned no service account id');
  const token = await deps.grafana.send(
    new CreateWorkspaceServiceAccountTokenCommand({
      workspaceId,
      serviceAccountId,
      name: `provision-${Date.now()}`,
      secondsToLive: tokenSeconds,
    }),
  );
  const key = token.serviceAccountToken?.key;
  const tokenId = token.serviceAccountToken?.id;
  if (!key || !tokenId) throw new Error('AMG returned no service account token');
  const api: Api = async (method, path, body) => {
    const res = await deps.fetch(`https://${p.Endpoint}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${key}`,
        'Content-Type': 'application/json',
        Accept: 'application/json',
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (res.status >= 400 && res.status !== 404) throw new GrafanaApiError(method, path, res.status, text);
    return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined };
  };
  try {
    return { result: await work(api), serviceAccountId };
  } finally {
    await deps.grafana.send(
      new DeleteWorkspaceServiceAccountTokenCommand({ workspaceId, serviceAccountId, tokenId }),
    );
  }
}

/**
 * The dashboard as the Grafana API takes it: its variables default to this workspace's data
 * source, the environment's region and the environment's prefix.
 */
export function dashboardForImport(p: ProvisionerProperties): Record<string, unknown> {
  const dashboard = JSON.parse(p.Dashboard) as Record<string, unknown> & {
    uid?: string;
    templating?: { list?: Record<string, unknown>[] };
  };
  if (typeof dashboard.uid !== 'string' || !Array.isArray(dashboard.panels))
    throw new Error('Dashboard: not a Grafana dashboard (no uid or panels)');
  const defaults: Record<string, { text: string; value: string }> = {
    datasource: { text: p.DataSourceName, value: p.DataSourceUid },
    region: { text: p.DefaultRegion, value: p.DefaultRegion },
    prefix: { text: p.Prefix, value: p.Prefix },
  };
  const list = (dashboard.templating?.list ?? []).map((v) => {
    const current = defaults[String(v.name)];
    return current ? { ...v, current } : v;
  });
  return { ...dashboard, id: null, templating: { ...dashboard.templating, list } };
}

async function upsert(api: Api, p: ProvisionerProperties): Promise<{ url: string; uid: string }> {
  const dataSource = {
    uid: p.DataSourceUid,
    name: p.DataSourceName,
    type: 'cloudwatch',
    access: 'proxy',
    // The workspace's IAM role (the role the stack gives the workspace).
    jsonData: { authType: 'ec2_iam_role', defaultRegion: p.DefaultRegion },
  };
  const existing = await api('GET', `/api/datasources/uid/${encodeURIComponent(p.DataSourceUid)}`);
  if (existing.status === 404) await api('POST', '/api/datasources', dataSource);
  else await api('PUT', `/api/datasources/uid/${encodeURIComponent(p.DataSourceUid)}`, dataSource);
  const dashboard = dashboardForImport(p);
  const saved = await api('POST', '/api/dashboards/db', {
    dashboard,
    overwrite: true,
    message: 'Provisioned by the openbatch monitoring stack',
  });
  if (saved.status === 404)
    throw new GrafanaApiError('POST', '/api/dashboards/db', 404, JSON.stringify(saved.json));
  const url = (saved.json as { url?: string } | undefined)?.url ?? '';
  return { url: `https://${p.Endpoint}${url}`, uid: String(dashboard.uid) };
}

export async function onEvent(event: ProvisionerEvent, deps: ProvisionerDeps): Promise<ProvisionerResult> {
  const p = event.ResourceProperties;
  required(p);
  const physicalId = `${p.WorkspaceId}/${(JSON.parse(p.Dashboard) as { uid?: string }).uid ?? 'dashboard'}`;
  if (event.RequestType === 'Delete') {
    try {
      const { serviceAccountId } = await withToken(deps, p, async (api) => {
        const uid = (JSON.parse(p.Dashboard) as { uid?: string }).uid;
        if (uid) await api('DELETE', `/api/dashboards/uid/${encodeURIComponent(uid)}`);
      });
      await deps.grafana.send(
        new DeleteWorkspaceServiceAccountCommand({ workspaceId: p.WorkspaceId, serviceAccountId }),
      );
    } catch (err) {
      // Never block a stack deletion on a workspace that is already gone.
      deps.log('delete left the dashboard or service account in place', { error: String(err) });
    }
    return { PhysicalResourceId: event.PhysicalResourceId ?? physicalId };
  }
  const { result } = await withToken(deps, p, (api) => upsert(api, p));
  deps.log('dashboard provisioned', { workspaceId: p.WorkspaceId, url: result.url });
  return { PhysicalResourceId: physicalId, Data: { DashboardUrl: result.url, DashboardUid: result.uid } };
}

const defaultDeps = (): ProvisionerDeps => ({
  grafana: new GrafanaClient({}),
  fetch: globalThis.fetch,
  log: (message, detail) => console.log(JSON.stringify({ level: 'info', message, ...detail })),
});

let deps: ProvisionerDeps | undefined;

export const handler = (event: ProvisionerEvent): Promise<ProvisionerResult> => {
  deps ??= defaultDeps();
  return onEvent(event, deps);
};
