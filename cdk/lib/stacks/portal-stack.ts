import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  CfnOutput,
  DefaultStackSynthesizer,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  type StackProps,
} from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { PORTAL_ROUTE_SOURCE } from '../../../core/app/portal-routes.js';
import { limitsSchema, readConfig } from '../../../core/config.js';
import type { EnvironmentConfig } from '../../config.js';
import {
  acknowledge,
  acknowledgeFindings,
  lambdaBasicExecutionPolicy,
  resourceFinding,
  s3GrantActions,
} from '../nag.js';
import { ResourceNames } from '../names.js';

export interface PortalStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  /**
   * The built portal (portal/dist): `cdk/bin/app.ts` builds it with `ensurePortalDist` before an
   * AWS synthesis. @default none: only the runtime configuration is deployed (tests)
   */
  readonly portalDist?: string;
}

/**
 * Builds portal/dist when it is missing or older than the portal's sources (Vite, as `npm run
 * portal:build` does), so that a synthesis from a clean checkout deploys the portal and not just
 * config.json. Throws a message that says what to run when the build fails.
 */
export function ensurePortalDist(root: string, build: () => void): string {
  const dist = join(root, 'portal/dist');
  try {
    build();
  } catch (err) {
    throw new Error(
      `The portal stack deploys ${dist}, and building it failed: ${(err as Error).message.split('\n')[0]}\n` +
        'Run `npm install` and `npm run portal:build` to see why, or synthesize only the other stacks.',
    );
  }
  if (!existsSync(join(dist, 'index.html')))
    throw new Error(`The portal build wrote no ${join(dist, 'index.html')}; run \`npm run portal:build\`.`);
  return dist;
}

/**
 * Client-side routes (no file extension) get index.html; files and the API pass through.
 * API errors keep their status, which a distribution-wide error page would have replaced.
 */
const spaRoutingCode = `function handler(event) {
  var request = event.request;
  if (/${PORTAL_ROUTE_SOURCE.replaceAll('/', '\\/')}/.test(request.uri)) request.uri = '/index.html';
  return request;
}`;

/**
 * The portal: a private bucket behind CloudFront (origin access control). The same
 * distribution forwards /v1/* to the API, so the portal calls its own origin (no CORS) exactly
 * as it does on the local runtime, and /config.json tells it that URL at run time.
 */
export class PortalStack extends Stack {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly deployment: s3deploy.BucketDeployment;
  /** The runtime configuration the portal fetches from /config.json. */
  readonly runtimeConfig: {
    apiBaseUrl: string;
    environment: string;
    directUploadLimitBytes: number;
    completionWindows: string[];
  };

  constructor(scope: Construct, id: string, props: PortalStackProps) {
    super(scope, id, props);
    const { config } = props;
    const names = new ResourceNames(config.prefix, this);
    // Only built, re-deployable files and access logs: kept where data is kept, else emptied and
    // deleted with the stack (dev).
    const removalPolicy = config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const autoDeleteObjects = !config.retainData;

    const logs = new s3.Bucket(this, 'LogsBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // CloudFront standard logs are delivered with ACLs.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy,
      autoDeleteObjects,
    });
    this.bucket = new s3.Bucket(this, 'SiteBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 'site/',
      removalPolicy,
      autoDeleteObjects,
    });

    // The API stack publishes its id; read at deploy time, so no export couples the stacks.
    const restApiId = ssm.StringParameter.valueForStringParameter(this, names.parameter('rest-api-id'));
    const apiOrigin = new origins.HttpOrigin(
      Fn.join('', [restApiId, '.execute-api.', this.region, '.', this.urlSuffix]),
      {
        originPath: `/${config.name}`,
        protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
        originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
        readTimeout: Duration.seconds(30),
      },
    );
    const siteOrigin = origins.S3BucketOrigin.withOriginAccessControl(this.bucket);

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `openbatch ${config.name} portal and API`,
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: siteOrigin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
        compress: true,
        functionAssociations: [
          {
            eventType: cloudfront.FunctionEventType.VIEWER_REQUEST,
            function: new cloudfront.Function(this, 'SpaRouting', {
              code: cloudfront.FunctionCode.fromInline(spaRoutingCode),
              runtime: cloudfront.FunctionRuntime.JS_2_0,
              comment: 'Serves index.html for client-side routes',
            }),
          },
        ],
      },
      additionalBehaviors: {
        '/v1/*': {
          origin: apiOrigin,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          // With caching disabled, this policy forwards the Authorization header as well.
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        },
        '/config.json': {
          origin: siteOrigin,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
        },
      },
      ...(config.domain
        ? {
            domainNames: [config.domain.name],
            certificate: acm.Certificate.fromCertificateArn(
              this,
              'Certificate',
              config.domain.certificateArn,
            ),
            minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
          }
        : {}),
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      enableLogging: true,
      logBucket: logs,
      logFilePrefix: 'cloudfront/',
    });

    const host = config.domain?.name ?? this.distribution.distributionDomainName;
    // The portal sends files above the API's direct-upload limit through pre-signed parts, and
    // its create form offers the completion windows the deployment allows.
    const limits = readConfig(limitsSchema, config.settings ?? {});
    this.runtimeConfig = {
      apiBaseUrl: `https://${host}/v1`,
      environment: config.name,
      directUploadLimitBytes: limits.MAX_API_UPLOAD_BYTES,
      completionWindows: limits.COMPLETION_WINDOWS,
    };
    const portalSource = props.portalDist ? s3deploy.Source.asset(props.portalDist) : undefined;
    this.deployment = new s3deploy.BucketDeployment(this, 'Deploy', {
      destinationBucket: this.bucket,
      sources: [
        ...(portalSource ? [portalSource] : []),
        s3deploy.Source.jsonData('config.json', this.runtimeConfig),
      ],
      // Without a portal, leave whatever is deployed and only refresh config.json.
      prune: Boolean(portalSource),
      distribution: this.distribution,
      distributionPaths: ['/index.html', '/config.json'],
      memoryLimit: 512,
    });

    acknowledge(
      this.distribution,
      {
        id: 'AwsSolutions-CFR1',
        reason: "The portal serves a customer's own users wherever they are; no geo restriction applies.",
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'The API behind /v1 requires Bearer keys and is throttled; attach an AWS WAF web ACL where the organisation requires one.',
      },
      ...(config.domain
        ? []
        : [
            {
              id: 'AwsSolutions-CFR4',
              reason:
                'Without a custom domain CloudFront serves its default certificate, whose minimum protocol cannot be raised; configure `domain` to enforce TLSv1.2_2021.',
            },
          ]),
    );

    // CDK's singleton handler that copies the portal into the bucket and invalidates the cache.
    const handler = this.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (handler) {
      acknowledge(
        handler,
        {
          id: `AwsSolutions-IAM4[${lambdaBasicExecutionPolicy}]`,
          reason:
            "CDK's BucketDeployment handler logs through AWSLambdaBasicExecutionRole (CloudWatch Logs only).",
        },
        {
          id: 'AwsSolutions-L1',
          reason: "The BucketDeployment handler's runtime is chosen and kept current by aws-cdk-lib.",
        },
      );
      acknowledgeFindings(
        handler,
        'AwsSolutions-IAM5',
        [
          ...s3GrantActions,
          resourceFinding(this, this.bucket.arnForObjects('*')),
          resourceFinding(this, `arn:${this.partition}:s3:::${assetBucket(this)}/*`),
          // cloudfront:CreateInvalidation/GetInvalidation
          'Resource::*',
        ],
        "CDK's BucketDeployment handler reads the staged portal from the CDK asset bucket, writes the site bucket's objects and invalidates the distribution (CloudFront invalidations have no resource ARN to scope to).",
      );
    }

    new CfnOutput(this, 'PortalUrl', { value: `https://${host}` });
    new CfnOutput(this, 'ApiBaseUrlViaPortal', {
      value: this.runtimeConfig.apiBaseUrl,
      description: 'The API through the portal domain (also usable as the SDK baseURL)',
    });
  }
}

/** The CDK bootstrap asset bucket the stack's file assets are staged in. */
function assetBucket(stack: Stack): string {
  const qualifier =
    stack.synthesizer instanceof DefaultStackSynthesizer
      ? (stack.synthesizer.bootstrapQualifier ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER)
      : DefaultStackSynthesizer.DEFAULT_QUALIFIER;
  return `cdk-${qualifier}-assets-${stack.account}-${stack.region}`;
}
