import { type Acknowledgment, Stack, Validations } from 'aws-cdk-lib';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';

/**
 * cdk-nag (v3) findings that do not apply, acknowledged with CDK's `Validations` API. Every
 * acknowledgment says why; rules that report several findings per resource (IAM4, IAM5) are
 * acknowledged finding by finding (`AwsSolutions-IAM5[Action::s3:GetObject*]`), so a new
 * wildcard anywhere is still reported. test/cdk/nag.test.ts runs the AwsSolutions pack over
 * every stack and lists the acknowledgments with their reasons.
 */
export function acknowledge(scope: IConstruct, ...rules: Acknowledgment[]): void {
  Validations.of(scope).acknowledge(...rules);
}

/** Acknowledges each listed finding of one rule with the same reason. */
export function acknowledgeFindings(
  scope: IConstruct,
  rule: string,
  findings: readonly string[],
  reason: string,
): void {
  acknowledge(scope, ...findings.map((f) => ({ id: `${rule}[${f}]`, reason })));
}

export const lambdaBasicExecutionPolicy =
  'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole';

/** The object-level S3 actions CDK's grantReadWrite expresses with wildcards. */
export const s3GrantActions = [
  'Action::s3:GetObject*',
  'Action::s3:GetBucket*',
  'Action::s3:List*',
  'Action::s3:DeleteObject*',
  'Action::s3:Abort*',
];

export const grantReason =
  "Grants come from the declaration's `uses`: object-level actions on the named bucket's objects (keys are per tenant and batch, unknown at deploy time) and the named tables' indexes, as CDK's grant methods express them.";

/** The finding id cdk-nag gives a wildcard resource (tokens flattened as cdk-nag does). */
export function resourceFinding(scope: IConstruct, arn: string): string {
  return `Resource::${flattenCfnReference(Stack.of(scope).resolve(arn))}`;
}
