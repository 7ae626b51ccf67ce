import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import {
  contentLengthTooLargeRegex,
  MAX_REQUEST_BODY_BYTES,
  requestTooLargeBody,
} from '../../../core/app/api-limits.js';

export interface BodySizeGuardProps {
  /** The API stage the web ACL protects. */
  readonly stage: apigw.Stage;
  /** Web ACL name and metric prefix. */
  readonly name: string;
}

/** Key of the custom response body in the web ACL (pattern ^[\w\-]+$). */
export const requestTooLargeBodyKey = 'request_too_large';

/**
 * An AWS WAF web ACL on the API stage that refuses, before API Gateway and Lambda see it, a
 * request whose Content-Length is above MAX_REQUEST_BODY_BYTES (core/app/api-limits.ts): with
 * 413 and OpenAI's error shape pointing at the Uploads API. Without it such a request (up to
 * API Gateway's 10 MB) would reach Lambda base64-encoded and over its 6 MB payload limit, and
 * API Gateway would answer a 5xx.
 *
 * - WAF custom responses take precedence over the protected resource's own (API Gateway's
 *   gateway responses), and 413 is one of the status codes WAF custom responses support.
 * - The rule inspects the single header `content-length` (names are case-insensitive) with a
 *   regex on its decimal value: WAF has no numeric comparison, and a size constraint on a header
 *   would measure the length of its text.
 * - A request without the header (Transfer-Encoding: chunked) does not match and is allowed: its
 *   size is unknown in front of API Gateway (docs/deploy.md, "Request size limits").
 */
export class BodySizeGuard extends Construct {
  readonly webAcl: wafv2.CfnWebACL;
  readonly association: wafv2.CfnWebACLAssociation;

  constructor(scope: Construct, id: string, props: BodySizeGuardProps) {
    super(scope, id);
    const visibility = (metricName: string) => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName,
    });
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name: props.name,
      // CloudFormation's pattern for it allows no quotes or parentheses.
      description: `Refuses a Content-Length above ${MAX_REQUEST_BODY_BYTES} bytes with an OpenAI-shaped 413`,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      customResponseBodies: {
        [requestTooLargeBodyKey]: {
          contentType: 'APPLICATION_JSON',
          content: JSON.stringify(requestTooLargeBody),
        },
      },
      rules: [
        {
          name: 'request-body-too-large',
          priority: 0,
          statement: {
            regexMatchStatement: {
              fieldToMatch: { singleHeader: { Name: 'content-length' } },
              regexString: contentLengthTooLargeRegex,
              textTransformations: [{ priority: 0, type: 'NONE' }],
            },
          },
          action: {
            block: {
              customResponse: { responseCode: 413, customResponseBodyKey: requestTooLargeBodyKey },
            },
          },
          visibilityConfig: visibility(`${props.name}-request-body-too-large`),
        },
      ],
      visibilityConfig: visibility(props.name),
    });
    this.association = new wafv2.CfnWebACLAssociation(this, 'StageAssociation', {
      resourceArn: props.stage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
  }
}
