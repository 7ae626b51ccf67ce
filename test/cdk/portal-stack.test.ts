import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { environments } from '../../cdk/config.js';
import { configWith, onlyResource, resourcesOf, synth } from './support.js';

const dev = synth({ env: 'dev' });
const portal = dev.template(dev.stacks.portal as Stack);

type Behavior = {
  PathPattern?: string;
  Compress?: boolean;
  TargetOriginId: string;
  CachePolicyId: string;
  OriginRequestPolicyId?: string;
  AllowedMethods?: string[];
  ViewerProtocolPolicy: string;
  FunctionAssociations?: unknown[];
};
type Origin = {
  Id: string;
  DomainName: unknown;
  OriginPath?: string;
  OriginAccessControlId?: unknown;
  CustomOriginConfig?: Record<string, unknown>;
};

const distribution = () => {
  const { props } = onlyResource(portal, 'AWS::CloudFront::Distribution');
  return props.DistributionConfig as {
    DefaultCacheBehavior: Behavior;
    CacheBehaviors: Behavior[];
    Origins: Origin[];
    DefaultRootObject: string;
    Logging: unknown;
    CustomErrorResponses?: unknown;
  };
};

// CloudFront managed policies
const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
/** CachingOptimized: its cache key includes Accept-Encoding (gzip and Brotli), which compression needs. */
const CACHING_OPTIMIZED = '658327ea-f89d-4fab-a63d-7e88639e58f6';
const ALL_VIEWER_EXCEPT_HOST_HEADER = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

describe('portal stack', () => {
  it('keeps the site in a private, encrypted, TLS-only bucket', () => {
    const site = onlyResource(portal, 'AWS::S3::Bucket', (p) => p.LoggingConfiguration !== undefined);
    expect(site.props.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(site.props.WebsiteConfiguration).toBeUndefined();
    portal.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: site.id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          // Only this distribution may read, through origin access control.
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudfront.amazonaws.com' },
            Action: 's3:GetObject',
            Condition: { StringEquals: { 'AWS:SourceArn': Match.anyValue() } },
          }),
        ]),
      },
    });
  });

  it('serves the bucket through CloudFront with origin access control and logs requests', () => {
    const config = distribution();
    const s3Origin = config.Origins.find((o) => o.OriginAccessControlId !== undefined);
    expect(s3Origin).toBeDefined();
    expect(config.DefaultCacheBehavior.TargetOriginId).toBe(s3Origin?.Id);
    expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(config.DefaultRootObject).toBe('index.html');
    expect(config.Logging).toBeDefined();
    portal.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: Match.objectLike({
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
      }),
    });
  });

  it('serves the portal files compressed (gzip or Brotli, as the browser accepts)', () => {
    const site = distribution().DefaultCacheBehavior;
    expect(site.Compress).toBe(true);
    // CloudFront compresses only where the cache policy keys on the accepted encodings.
    expect(site.CachePolicyId).toBe(CACHING_OPTIMIZED);
  });

  it('routes client-side paths to index.html without rewriting API errors', () => {
    const config = distribution();
    expect(config.CustomErrorResponses).toBeUndefined();
    expect(config.DefaultCacheBehavior.FunctionAssociations).toHaveLength(1);
    const code = onlyResource(portal, 'AWS::CloudFront::Function').props.FunctionCode as string;
    const handler = new Function(`${code}; return handler;`)() as (e: { request: { uri: string } }) => {
      uri: string;
    };
    expect(handler({ request: { uri: '/batches/batch_123' } }).uri).toBe('/index.html');
    expect(handler({ request: { uri: '/assets/index-abc.js' } }).uri).toBe('/assets/index-abc.js');
    expect(handler({ request: { uri: '/config.json' } }).uri).toBe('/config.json');
    for (const route of ['/', '/batches', '/batches/', '/batches/new', '/operator'])
      expect(handler({ request: { uri: route } }).uri, route).toBe('/index.html');
    // Not the portal's: left to the bucket, which has no such object, rather than served a page.
    for (const other of ['/metrics', '/health', '/batches/x/y', '/admin', '/operator/x'])
      expect(handler({ request: { uri: other } }).uri, other).toBe(other);
  });

  it('forwards /v1/* to the API stage, uncached, with the Authorization header', () => {
    const config = distribution();
    const api = config.CacheBehaviors.find((b) => b.PathPattern === '/v1/*');
    expect(api).toMatchObject({
      CachePolicyId: CACHING_DISABLED,
      OriginRequestPolicyId: ALL_VIEWER_EXCEPT_HOST_HEADER,
      ViewerProtocolPolicy: 'https-only',
    });
    expect(api?.AllowedMethods).toEqual(expect.arrayContaining(['GET', 'POST', 'DELETE']));
    const origin = config.Origins.find((o) => o.Id === api?.TargetOriginId);
    expect(origin?.OriginPath).toBe('/dev');
    expect(origin?.CustomOriginConfig).toMatchObject({
      OriginProtocolPolicy: 'https-only',
      OriginSSLProtocols: ['TLSv1.2'],
    });
    // The API id comes from the API stack's SSM parameter at deploy time, not from an export.
    expect(JSON.stringify(origin?.DomainName)).toContain('.execute-api.us-east-1.');
    expect(Object.values(portal.findParameters('*')).map((p) => p.Default)).toContain(
      '/openbatch-dev/rest-api-id',
    );
  });

  it('delivers the API URL as runtime configuration in /config.json, never cached', () => {
    const config = distribution();
    expect(config.CacheBehaviors.find((b) => b.PathPattern === '/config.json')?.CachePolicyId).toBe(
      CACHING_DISABLED,
    );
    portal.hasResourceProperties('Custom::CDKBucketDeployment', {
      DistributionPaths: ['/index.html', '/config.json'],
      Prune: false,
      SourceMarkers: [
        { '<<marker:0xbaba:0>>': { 'Fn::GetAtt': [Match.stringLikeRegexp('^Distribution'), 'DomainName'] } },
      ],
    });
    const outdir = dev.app.synth().directory;
    const file = readdirSync(outdir)
      .map((d) => join(outdir, d, 'config.json'))
      .find((f) => existsSync(f));
    expect(JSON.parse(readFileSync(file as string, 'utf8'))).toEqual({
      apiBaseUrl: 'https://<<marker:0xbaba:0>>/v1',
      environment: 'dev',
      // The API's direct-upload limit: above it the portal sends pre-signed parts.
      directUploadLimitBytes: 4 * 1024 * 1024,
      // The windows the create form offers: the deployment's allowlist (24h always among them).
      completionWindows: expect.arrayContaining(['24h']),
    });
    expect(dev.stacks.portal?.runtimeConfig.environment).toBe('dev');
  });

  it('deploys a built portal with its config and prunes what the build dropped', () => {
    const dist = mkdtempSync(join(tmpdir(), 'portal-dist-'));
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>openbatch</title>');
    writeFileSync(join(dist, 'assets', 'app.js'), 'console.log(1)');
    const built = synth({ env: 'dev', portalDist: dist });
    const deployment = onlyResource(
      built.template(built.stacks.portal as Stack),
      'Custom::CDKBucketDeployment',
    );
    expect(deployment.props.Prune).toBe(true);
    expect(deployment.props.SourceObjectKeys).toHaveLength(2);
  });

  it('serves a custom domain with its certificate and TLS 1.2', () => {
    const withDomain = synth({
      config: configWith(environments.prod, (c) => {
        c.domain = {
          name: 'batch.example.com',
          certificateArn:
            'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
        };
      }),
    });
    const t = withDomain.template(withDomain.stacks.portal as Stack);
    const { props } = onlyResource(t, 'AWS::CloudFront::Distribution');
    expect(props.DistributionConfig).toMatchObject({
      Aliases: ['batch.example.com'],
      ViewerCertificate: {
        AcmCertificateArn:
          'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
        MinimumProtocolVersion: 'TLSv1.2_2021',
        SslSupportMethod: 'sni-only',
      },
    });
    expect(withDomain.stacks.portal?.runtimeConfig.apiBaseUrl).toBe('https://batch.example.com/v1');
    // The custom domain is also an allowed browser origin of the API.
    const fn = Object.values(
      resourcesOf(withDomain.template(withDomain.stacks.api), 'AWS::Lambda::Function'),
    ).find((f) => f.Properties?.FunctionName === 'openbatch-prod-files-api');
    expect(JSON.stringify(fn?.Properties?.Environment)).toContain(
      '"ALLOWED_ORIGINS":"https://batch.example.com"',
    );
  });
});
