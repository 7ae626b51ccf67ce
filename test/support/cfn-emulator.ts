import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  type Stack,
  type StackResourceSummary,
} from '@aws-sdk/client-cloudformation';

/**
 * Deploying synthesized CDK templates into moto's CloudFormation (test/integration/
 * data-stack-in-emulator.test.ts; docs/emulator-deploy.md says what that proves).
 */

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
  [k: string]: unknown;
}

export interface CfnTemplate {
  Parameters?: Record<string, { Type: string; Default?: string; [k: string]: unknown }>;
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, unknown>;
  [k: string]: unknown;
}

/** A kind of resource moto cannot create, and why. */
export interface UnsupportedResource {
  readonly type: string;
  /** Only resources of `type` whose logical id starts with this. */
  readonly idPrefix?: string;
  readonly why: string;
  /** The template need not contain it (a rule that never matches is otherwise an error). */
  readonly optional?: boolean;
}

/**
 * What moto 5.2.1 (the version scripts/ensure-deps.sh pins) cannot create from our templates.
 * Only these are taken out of a template before deploying it; everything else must reach
 * CREATE_COMPLETE. Re-check this list when moto is upgraded.
 */
export const unsupportedInMoto: readonly UnsupportedResource[] = [
  {
    type: 'AWS::S3::BucketPolicy',
    why:
      'moto has no CloudFormation model for it: it logs "No Moto CloudFormation support" and ' +
      'skips it, and the stack still reports CREATE_COMPLETE, so keeping it would prove nothing',
  },
  {
    type: 'AWS::SQS::QueuePolicy',
    why: 'as AWS::S3::BucketPolicy: skipped with a warning, never created',
  },
  {
    type: 'Custom::S3AutoDeleteObjects',
    optional: true,
    why:
      "autoDeleteObjects' Lambda-backed custom resource: creating it means invoking the provider " +
      'Lambda, which moto can only do in Docker',
  },
  {
    type: 'AWS::Lambda::Function',
    idPrefix: 'CustomS3AutoDeleteObjectsCustomResourceProviderHandler',
    optional: true,
    why:
      "autoDeleteObjects' provider: its code is a CDK asset in the bootstrap assets bucket, which " +
      'the emulator does not have (moto fails CreateStack with NoSuchBucket)',
  },
];

export interface Stripped {
  readonly template: CfnTemplate;
  /** What was taken out, by logical id, with the rule that took it. */
  readonly removed: readonly { id: string; type: string; rule: UnsupportedResource }[];
  /** Rules not marked optional that matched nothing: stale, or the template lost something. */
  readonly unused: readonly UnsupportedResource[];
}

const matches = (rule: UnsupportedResource, id: string, r: CfnResource) =>
  r.Type === rule.type && (!rule.idPrefix || id.startsWith(rule.idPrefix));

/**
 * The template without the resources `rules` name. Fails when a remaining resource or output
 * still refers to a removed one: what would be deployed is then a broken copy of the template.
 */
export function stripUnsupported(
  template: CfnTemplate,
  rules: readonly UnsupportedResource[] = unsupportedInMoto,
): Stripped {
  const copy = structuredClone(template);
  const removed: { id: string; type: string; rule: UnsupportedResource }[] = [];
  for (const [id, r] of Object.entries(copy.Resources)) {
    const rule = rules.find((x) => matches(x, id, r));
    if (!rule) continue;
    removed.push({ id, type: r.Type, rule });
    delete copy.Resources[id];
  }
  const gone = new Set(removed.map((x) => x.id));
  const dangling = Object.entries({ ...copy.Resources, ...(copy.Outputs ?? {}) }).flatMap(([id, v]) =>
    logicalIdsIn(v)
      .filter((ref) => gone.has(ref))
      .map((ref) => `${id} -> ${ref}`),
  );
  if (dangling.length)
    throw new Error(`stripping would leave references to removed resources: ${dangling.join(', ')}`);
  const unused = rules.filter((rule) => !rule.optional && !removed.some((x) => x.rule === rule));
  return { template: copy, removed, unused };
}

/** Logical ids a template fragment refers to: Ref, Fn::GetAtt, Fn::Sub variables, DependsOn. */
export function logicalIdsIn(value: unknown): string[] {
  const out: string[] = [];
  const fromSub = (s: string) => {
    for (const m of s.matchAll(/\$\{([^}!][^}.]*)(?:\.[^}]*)?\}/g)) if (m[1]) out.push(m[1]);
  };
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'Ref' && typeof x === 'string') out.push(x);
        else if (k === 'Fn::GetAtt')
          out.push(Array.isArray(x) ? String(x[0]) : (String(x).split('.')[0] ?? String(x)));
        else if (k === 'Fn::Sub') {
          if (typeof x === 'string') fromSub(x);
          else if (Array.isArray(x)) {
            if (typeof x[0] === 'string') fromSub(x[0]);
            walk(x[1]);
          }
        } else if (k === 'DependsOn') out.push(...(Array.isArray(x) ? x.map(String) : [String(x)]));
        else walk(x);
      }
    }
  };
  walk(value);
  return out.filter((id) => !id.startsWith('AWS::'));
}

/**
 * Sets a String parameter in the emulator's SSM. The project has no SSM client (nothing else
 * needs one) and moto does not check signatures, so this speaks SSM's JSON protocol directly;
 * the Authorization header only tells moto the service and region.
 */
export async function putSsmParameter(
  endpoint: string,
  region: string,
  name: string,
  value: string,
): Promise<void> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AmazonSSM.PutParameter',
      authorization: `AWS4-HMAC-SHA256 Credential=test/20250101/${region}/ssm/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify({ Name: name, Value: value, Type: 'String', Overwrite: true }),
  });
  if (!res.ok) throw new Error(`SSM PutParameter ${name}: ${res.status} ${await res.text()}`);
}

/**
 * What `cdk bootstrap` leaves that a synthesized template reads at deploy time: the bootstrap
 * version, which the BootstrapVersion parameter (an SSM-typed parameter) resolves from SSM.
 * Any version from 6 on satisfies the template's CheckBootstrapVersion rule, which moto does
 * not evaluate anyway.
 */
export async function bootstrapCdk(endpoint: string, region: string, template: CfnTemplate): Promise<void> {
  const param = template.Parameters?.BootstrapVersion;
  if (param?.Type.startsWith('AWS::SSM::Parameter::') && param.Default)
    await putSsmParameter(endpoint, region, param.Default, '21');
}

/**
 * A CloudFormation client for the emulator. One attempt: moto creates the resources inside
 * CreateStack, so a retry only answers "already exists" and hides the first error.
 */
export function emulatorCloudFormation(endpoint: string, region: string): CloudFormationClient {
  return new CloudFormationClient({ endpoint, region, maxAttempts: 1 });
}

/**
 * moto answers some CloudFormation errors in JSON or HTML, which the SDK can only report as an
 * XML parse error; the body it read is still on the error's hidden $response.
 */
function errorBody(e: unknown): string {
  const body = (e as { $response?: { body?: unknown } }).$response?.body;
  return typeof body === 'string' || body instanceof String ? String(body).slice(0, 2000) : '';
}

export interface Deployed {
  readonly stack: Stack;
  readonly resources: StackResourceSummary[];
}

const settled = (status: string | undefined) => !!status && !status.endsWith('_IN_PROGRESS');

/**
 * Creates a stack and waits until CloudFormation settles; anything but CREATE_COMPLETE is an
 * error naming the resources that failed and why.
 */
export async function deployStack(
  cfn: CloudFormationClient,
  stackName: string,
  template: CfnTemplate,
  timeoutMs = 20_000,
): Promise<Deployed> {
  try {
    await cfn.send(
      new CreateStackCommand({
        StackName: stackName,
        TemplateBody: JSON.stringify(template),
        Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM'],
      }),
    );
  } catch (e) {
    // moto creates the resources inside CreateStack, so a resource it cannot create fails here.
    const body = errorBody(e);
    throw new Error(
      `CreateStack ${stackName} failed in the emulator: ${(e as Error).message}\n` +
        (body ? `The emulator answered: ${body}\n` : '') +
        'If a resource type moto cannot create was added to the template, add it to ' +
        'unsupportedInMoto (test/support/cfn-emulator.ts) with the reason.',
    );
  }
  const deadline = Date.now() + timeoutMs;
  let stack: Stack | undefined;
  for (;;) {
    stack = (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
    if (settled(stack?.StackStatus)) break;
    if (Date.now() > deadline)
      throw new Error(`${stackName} still ${stack?.StackStatus} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  if (stack?.StackStatus !== 'CREATE_COMPLETE') {
    const events =
      (await cfn.send(new DescribeStackEventsCommand({ StackName: stackName }))).StackEvents ?? [];
    const failed = events
      .filter((e) => e.ResourceStatus?.endsWith('FAILED'))
      .map((e) => `${e.LogicalResourceId} (${e.ResourceType}): ${e.ResourceStatusReason}`);
    throw new Error(
      `${stackName} ended ${stack?.StackStatus}: ${stack?.StackStatusReason ?? ''}\n${failed.join('\n')}`,
    );
  }
  const resources: StackResourceSummary[] = [];
  let NextToken: string | undefined;
  do {
    const page = await cfn.send(new ListStackResourcesCommand({ StackName: stackName, NextToken }));
    resources.push(...(page.StackResourceSummaries ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return { stack, resources };
}
