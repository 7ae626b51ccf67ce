import { Validations } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { configProblems, environmentNames, environments } from '../../cdk/config.js';
import { requestTooLargeBodyKey } from '../../cdk/lib/constructs/body-size-guard.js';
import {
  contentLengthTooLargeRegex,
  INTEGRATION_FAILURE_STATUS,
  integrationFailureBody,
  MAX_REQUEST_BODY_BYTES,
  requestTooLargeBody,
} from '../../core/app/api-limits.js';
import { configWith, onlyResource, resourcesOf, synth } from './support.js';

/**
 * Request bodies too large for Lambda are refused in front of it: an AWS WAF web ACL on the
 * API stage answers OpenAI's 413 for a Content-Length above the threshold, API Gateway answers
 * the same body above its 10 MB, and an integration failure answers in OpenAI's shape.
 * (What AWS does with these resources is verified only by synthesis: docs/deploy.md.)
 */
const dev = synth({ env: 'dev' });
const api = dev.template(dev.stacks.api);

type Rule = {
  Name: string;
  Priority: number;
  Statement: {
    RegexMatchStatement: {
      FieldToMatch: { SingleHeader: { Name: string } };
      RegexString: string;
      TextTransformations: { Priority: number; Type: string }[];
    };
  };
  Action: { Block: { CustomResponse: { ResponseCode: number; CustomResponseBodyKey: string } } };
  VisibilityConfig: {
    CloudWatchMetricsEnabled: boolean;
    SampledRequestsEnabled: boolean;
    MetricName: string;
  };
};

const webAclOf = (template: Template) => onlyResource(template, 'AWS::WAFv2::WebACL');
const gatewayResponse = (template: Template, type: string) =>
  onlyResource(template, 'AWS::ApiGateway::GatewayResponse', (p) => p.ResponseType === type).props;
const templateBody = (props: Record<string, unknown>) =>
  JSON.parse((props.ResponseTemplates as Record<string, string>)['application/json'] ?? '');

describe('the body-size guard web ACL', () => {
  const { props } = webAclOf(api);
  const rules = props.Rules as Rule[];
  const rule = rules[0] as Rule;

  it('is a regional web ACL that allows by default and has one rule', () => {
    expect(props.Scope).toBe('REGIONAL');
    // The patterns CloudFormation validates (the CLI's synth checks them; these tests skip that).
    expect(props.Name).toMatch(/^[\w-]{1,128}$/);
    expect(props.Description).toMatch(
      /^[a-zA-Z0-9=:#@/\-,.][a-zA-Z0-9+=:#@/\-,.\s]+[a-zA-Z0-9+=:#@/\-,.]{1,256}$/,
    );
    expect(rule.Name).toMatch(/^[\w-]{1,128}$/);
    expect(props.DefaultAction).toEqual({ Allow: {} });
    expect(rules).toHaveLength(1);
    expect(props.VisibilityConfig).toMatchObject({
      CloudWatchMetricsEnabled: true,
      SampledRequestsEnabled: true,
    });
    expect(rule.VisibilityConfig).toMatchObject({
      CloudWatchMetricsEnabled: true,
      SampledRequestsEnabled: true,
    });
    for (const metric of [
      (props.VisibilityConfig as { MetricName: string }).MetricName,
      rule.VisibilityConfig.MetricName,
    ])
      expect(metric).toMatch(/^[\w#:.\-/]{1,128}$/);
  });

  it('blocks requests whose content-length header matches the threshold regex, untransformed', () => {
    const statement = rule.Statement.RegexMatchStatement;
    expect(statement.FieldToMatch).toEqual({ SingleHeader: { Name: 'content-length' } });
    expect(statement.RegexString).toBe(contentLengthTooLargeRegex);
    expect(statement.TextTransformations).toEqual([{ Priority: 0, Type: 'NONE' }]);
    const re = new RegExp(statement.RegexString);
    expect(re.test(String(MAX_REQUEST_BODY_BYTES))).toBe(false);
    expect(re.test(String(MAX_REQUEST_BODY_BYTES + 1))).toBe(true);
    expect(re.test(String(1024 * 1024))).toBe(false);
    expect(re.test(String(7 * 1024 * 1024))).toBe(true);
    expect(re.test(String(11 * 1024 * 1024))).toBe(true);
  });

  it('answers 413 with exactly the shared OpenAI error body, as JSON', () => {
    expect(rule.Action).toEqual({
      Block: { CustomResponse: { ResponseCode: 413, CustomResponseBodyKey: requestTooLargeBodyKey } },
    });
    const bodies = props.CustomResponseBodies as Record<string, { ContentType: string; Content: string }>;
    expect(Object.keys(bodies)).toEqual([requestTooLargeBodyKey]);
    expect(requestTooLargeBodyKey).toMatch(/^[\w-]{1,128}$/);
    const body = bodies[requestTooLargeBodyKey] as { ContentType: string; Content: string };
    expect(body.ContentType).toBe('APPLICATION_JSON');
    expect(body.Content.length).toBeLessThanOrEqual(10_240);
    expect(JSON.parse(body.Content)).toEqual(requestTooLargeBody);
  });

  it('is associated with the API stage by its ARN', () => {
    const association = onlyResource(api, 'AWS::WAFv2::WebACLAssociation').props;
    const stage = onlyResource(api, 'AWS::ApiGateway::Stage');
    const restApi = onlyResource(api, 'AWS::ApiGateway::RestApi');
    expect(association.WebACLArn).toEqual({ 'Fn::GetAtt': [webAclOf(api).id, 'Arn'] });
    // arn:<partition>:apigateway:<region>::/restapis/<api id>/stages/<stage name>
    expect(association.ResourceArn).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:aws:apigateway:us-east-1::/restapis/',
          { Ref: restApi.id },
          '/stages/',
          { Ref: stage.id }, // a Stage's Ref is its name
        ],
      ],
    });
    expect(stage.props.StageName).toBe('dev');
  });

  it.each(environmentNames)('guards %s by default', (name) => {
    expect(environments[name].api.bodySizeGuard ?? true).toBe(true);
    const s = synth({ env: name });
    const t = s.template(s.stacks.api);
    expect(Object.keys(resourcesOf(t, 'AWS::WAFv2::WebACL'))).toHaveLength(1);
    expect(Object.keys(resourcesOf(t, 'AWS::WAFv2::WebACLAssociation'))).toHaveLength(1);
  });
});

describe('an environment without the guard', () => {
  const acknowledgedIds = (app: ReturnType<typeof synth>['app']) =>
    app.node
      .findAll()
      .flatMap((c) => c.node.metadata)
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.keys(m.data as Record<string, string>));

  it('has no web ACL, and acknowledges the missing one to cdk-nag with a reason', () => {
    const off = synth({
      config: configWith(environments.prod, (c) => (c.api = { ...c.api, bodySizeGuard: false })),
    });
    const t = off.template(off.stacks.api);
    expect(resourcesOf(t, 'AWS::WAFv2::WebACL')).toEqual({});
    expect(resourcesOf(t, 'AWS::WAFv2::WebACLAssociation')).toEqual({});
    expect(acknowledgedIds(off.app).some((id) => id.includes('AwsSolutions-APIG3'))).toBe(true);
    expect(acknowledgedIds(dev.app).some((id) => id.includes('AwsSolutions-APIG3'))).toBe(false);
    // API Gateway and the functions still answer in OpenAI's shape.
    expect(templateBody(gatewayResponse(t, 'REQUEST_TOO_LARGE'))).toEqual(requestTooLargeBody);
  });

  it('is the localstack target (LocalStack has WAFv2 only in its Ultimate plan)', () => {
    const local = synth({ env: 'dev', target: 'localstack' });
    const t = local.template(local.stacks.api);
    expect(resourcesOf(t, 'AWS::WAFv2::WebACL')).toEqual({});
  });
});

describe('gateway responses for too large requests', () => {
  it("answers API Gateway's REQUEST_TOO_LARGE with 413 and the WAF rule's body", () => {
    const props = gatewayResponse(api, 'REQUEST_TOO_LARGE');
    expect(props.StatusCode).toBe('413');
    expect(templateBody(props)).toEqual(requestTooLargeBody);
    const waf = (webAclOf(api).props.CustomResponseBodies as Record<string, { Content: string }>)[
      requestTooLargeBodyKey
    ];
    expect((props.ResponseTemplates as Record<string, string>)['application/json']).toBe(waf?.Content);
  });

  it("answers INTEGRATION_FAILURE with a 5xx in OpenAI's shape naming Lambda's payload limit", () => {
    const props = gatewayResponse(api, 'INTEGRATION_FAILURE');
    expect(props.StatusCode).toBe(String(INTEGRATION_FAILURE_STATUS));
    expect(Number(props.StatusCode)).toBeGreaterThanOrEqual(500);
    expect(templateBody(props)).toEqual(integrationFailureBody);
    expect(integrationFailureBody.error.message).toMatch(/payload limit/);
  });
});

describe('configuration', () => {
  it('refuses a bodySizeGuard that is not a boolean', () => {
    const bad = configWith(environments.dev, (c) => {
      c.api = { ...c.api, bodySizeGuard: 'yes' as unknown as boolean };
    });
    expect(configProblems(bad)).toContain('api.bodySizeGuard: true or false');
  });

  it('refuses a direct-upload limit that no request could reach', () => {
    const at = configWith(environments.dev, (c) => {
      c.settings = { MAX_API_UPLOAD_BYTES: String(MAX_REQUEST_BODY_BYTES) };
    });
    expect(configProblems(at)).toEqual([]);
    const above = configWith(environments.dev, (c) => {
      c.settings = { MAX_API_UPLOAD_BYTES: String(MAX_REQUEST_BODY_BYTES + 1) };
    });
    expect(configProblems(above).join('\n')).toMatch(/^settings\.MAX_API_UPLOAD_BYTES: at most 4600000/);
  });
});
