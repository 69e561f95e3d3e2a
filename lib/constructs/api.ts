import { Aws, CfnRule, Fn, Stack, Token, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  ApiMapping,
  CfnApi,
  DomainName,
  EndpointType,
  HttpApi,
  HttpMethod,
  HttpRoute,
  HttpRouteKey,
  HttpStage,
  LogGroupLogDestination,
  SecurityPolicy,
  type IHttpRouteAuthorizer,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { routeKey, type ApiName, type HttpRoute as RouteSpec } from '../../lambdas/topology';
import { certificateRegion, type StackConfig, type WebhookDomainConfig } from '../config';
import { APIS, API_NAMES, type Topology } from '../topology';
import type { Functions } from './functions';
import { pascal } from './naming';
import type { ServiceFunction } from './service-function';

/**
 * HTTP API access log, one JSON object per request. Ids and paths only: bodies and query strings (which may
 * carry card data or paging tokens) are never logged. `userArn` is the SigV4 caller on IAM routes (audit).
 */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTimeEpoch',
    ip: '$context.identity.sourceIp',
    userArn: '$context.identity.userArn',
    userAgent: '$context.identity.userAgent',
    routeKey: '$context.routeKey',
    method: '$context.httpMethod',
    path: '$context.path',
    protocol: '$context.protocol',
    status: '$context.status',
    responseLength: '$context.responseLength',
    latencyMs: '$context.responseLatency',
    integrationStatus: '$context.integrationStatus',
    integrationLatencyMs: '$context.integrationLatency',
    integrationError: '$context.integrationErrorMessage',
    authorizerError: '$context.authorizer.error',
    error: '$context.error.message',
  }),
);

/**
 * Why a route may skip IAM (cdk-nag AwsSolutions-APIG4), or undefined when it must not: a new unauthenticated
 * back-office route then fails the cdk-nag check until someone decides and writes the reason here.
 */
function whyNoIam(api: ApiName, route: Pick<RouteSpec, 'path'> | '$default', webhookDomain: WebhookDomainConfig | undefined): string | undefined {
  if (route === '$default') {
    return (
      "Fallback for paths no route matches: it only answers the service's 404/405 error body and reads no data. " +
      "With IAM on it, unsigned requests to unknown paths would get API Gateway's 403 instead of the documented 404."
    );
  }
  if (route.path === '/health') return 'Liveness probe: answers {"status":"ok"} without touching any data or dependency.';
  if (api === 'webhooks') {
    const transport = webhookDomain
      ? `This API is reachable only on the mutual-TLS custom domain ${webhookDomain.domainName} (truststore trusting Thales' client CA; ` +
        "its execute-api endpoint is disabled), so API Gateway refuses any caller without a client certificate Thales' CA issued. "
      : 'Deployed without the webhookDomainName/webhookCertificateArn/webhookTruststoreUri context, it has no mutual TLS: set them ' +
        'before D1 is pointed at it (DESIGN §7, docs/deploy.md). ';
    return (
      'Called by Thales D1, which cannot SigV4-sign requests. ' +
      transport +
      'The handler checks every call before recording it: notify-token-update compares the API key in its authorization header with ' +
      'TR_API_KEY in constant time; notifyVirtualCardChange accepts only our x-issuer-id. Rejections are counted and alarmed (RejectedRequests).'
    );
  }
  return undefined;
}

export interface ApiProps {
  config: StackConfig;
  topology: Topology;
  functions: Functions;
}

/**
 * The two HTTP APIs of DESIGN §7: `backoffice` (IAM-authorised routes) and `webhooks` (D1 callbacks). Routes
 * come from HTTP_ROUTES; each API's `$default` route goes to the fallback Lambda so unknown paths answer the
 * same error body as locally.
 *
 * With `config.webhookDomain`, the webhooks API is served on a regional custom domain with mutual TLS (TLS 1.2
 * policy, truststore in S3) and its default execute-api endpoint is disabled, so D1 can only reach it with a
 * client certificate the truststore accepts. The back-office API keeps its execute-api endpoint (SigV4).
 */
export class Api extends Construct {
  readonly apis: Record<ApiName, HttpApi>;
  readonly stages: Record<ApiName, HttpStage>;
  /** The webhooks API's mTLS custom domain, when configured. */
  readonly webhookDomain?: DomainName;
  /** Base URL each API is reached at: the custom domain's when it has one (its execute-api URL is disabled then). */
  readonly urls: Record<ApiName, string>;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const { config, topology, functions } = props;
    const iam = new HttpIamAuthorizer();
    const apis = {} as Record<ApiName, HttpApi>;
    const stages = {} as Record<ApiName, HttpStage>;
    const domains: Partial<Record<ApiName, WebhookDomainConfig>> = { webhooks: config.webhookDomain };

    for (const apiName of API_NAMES) {
      const name = pascal(apiName);
      // Own stage below: the default stage created by HttpApi cannot take access-log settings.
      const api = new HttpApi(this, name, {
        description: APIS[apiName].description,
        createDefaultStage: false,
        // Only with a custom domain: it then is the one way in (mTLS), not bypassable through execute-api.
        disableExecuteApiEndpoint: domains[apiName] !== undefined ? true : undefined,
      });
      const accessLogs = new LogGroup(this, `${name}AccessLogs`, { retention: config.logRetentionDays });
      stages[apiName] = new HttpStage(this, `${name}Stage`, {
        httpApi: api,
        stageName: '$default',
        autoDeploy: true,
        throttle: { rateLimit: config.apiRateLimit, burstLimit: config.apiBurstLimit },
        accessLogSettings: { destination: new LogGroupLogDestination(accessLogs), format: ACCESS_LOG_FORMAT },
      });

      // One integration per function and API (CDK refuses to share one across APIs); routes reuse it.
      const integrations = new Map<ServiceFunction, HttpLambdaIntegration>();
      const integrationFor = (fn: ServiceFunction) => {
        const integration = integrations.get(fn) ?? new HttpLambdaIntegration(`${fn.node.id}Integration`, fn);
        integrations.set(fn, integration);
        return integration;
      };
      const addRoute = (id: string, key: HttpRouteKey, fn: ServiceFunction, authorizer: IHttpRouteAuthorizer | undefined, publicBecause?: string) => {
        const route = new HttpRoute(this, id, { httpApi: api, routeKey: key, integration: integrationFor(fn), authorizer });
        // No reason, no acknowledgment: an unauthenticated route nobody justified fails the cdk-nag check.
        if (!authorizer && publicBecause) Validations.of(route).acknowledge({ id: 'AwsSolutions-APIG4', reason: publicBecause });
      };

      const seen = new Set<string>();
      for (const route of topology.httpRoutes.filter((r) => r.api === apiName)) {
        if (seen.has(routeKey(route))) throw new Error(`duplicate route ${routeKey(route)} on the ${apiName} API`);
        seen.add(routeKey(route));
        const fn = functions.forApi(route.handler, apiName);
        const key = HttpRouteKey.with(route.path, HttpMethod[route.method]);
        const authorizer = route.auth === 'iam' ? iam : undefined;
        addRoute(`${name}${pascal(routeKey(route))}`, key, fn, authorizer, authorizer ? undefined : whyNoIam(apiName, route, config.webhookDomain));
      }
      addRoute(
        `${name}Default`,
        HttpRouteKey.DEFAULT,
        functions.forApi(topology.fallbackHandler, apiName),
        undefined,
        whyNoIam(apiName, '$default', config.webhookDomain),
      );
      apis[apiName] = api;
    }
    this.apis = apis;
    this.stages = stages;
    if (config.webhookDomain) this.webhookDomain = this.mtlsDomain('Webhooks', config.webhookDomain, apis.webhooks, stages.webhooks);
    this.urls = {
      backoffice: stages.backoffice.url,
      webhooks: config.webhookDomain ? `https://${config.webhookDomain.domainName}/` : stages.webhooks.url,
    };
  }

  /**
   * Lets a browser app on `origin` call the back-office API (the operations console): GET and POST with the SigV4
   * headers (`authorization`, `x-amz-date`, `x-amz-security-token`, `x-amz-content-sha256`), the body's content type
   * and `idempotency-key`. No credentials mode: SigV4 needs no cookie.
   *
   * API Gateway answers CORS preflights (OPTIONS with Origin and Access-Control-Request-Method) itself, before any
   * route is matched, so they never reach `$default`; every other request — unknown paths and methods included —
   * is routed as before, and the fallback's 404/405 gets the CORS headers too (any the integration sets are ignored).
   */
  allowBrowserOrigin(origin: string): void {
    const api = this.apis.backoffice.node.defaultChild as CfnApi;
    api.corsConfiguration = {
      allowOrigins: [origin],
      allowMethods: ['GET', 'POST'],
      // x-amz-content-sha256: the payload hash SigV4 signers (@smithy/signature-v4) add by default.
      allowHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-amz-content-sha256', 'x-amz-date', 'x-amz-security-token'],
      maxAge: 600,
    };
  }

  /**
   * A regional custom domain (TLS 1.2 security policy) requiring a client certificate that chains to the
   * truststore, mapped at its root to `stage`. API Gateway reads the truststore with the deploying principal's
   * permissions when the domain is created or updated; the running service needs no access to it.
   */
  private mtlsDomain(id: string, domain: WebhookDomainConfig, api: HttpApi, stage: HttpStage): DomainName {
    // A regional endpoint takes a certificate from its own region only; say so before CloudFormation does, vaguely.
    const regions = [domain.certificateArn, domain.ownershipCertificateArn].filter((a): a is string => a !== undefined).map(certificateRegion);
    const region = Stack.of(this).region;
    if (!Token.isUnresolved(region) && regions.some((r) => r !== region)) {
      throw new Error(`webhookCertificateArn/webhookOwnershipCertificateArn: must be in the stack's region ${region} (regional endpoint)`);
    }
    new CfnRule(this, `${id}CertificateInStackRegion`, {
      assertions: [...new Set(regions)].map((r) => ({
        assert: Fn.conditionEquals(r, Aws.REGION),
        assertDescription: `The webhook domain's ACM certificate is in ${r}: deploy the stack to ${r} or use a certificate from the stack's region (regional endpoint).`,
      })),
    });
    const certificate = Certificate.fromCertificateArn(this, `${id}Certificate`, domain.certificateArn);
    const ownershipCertificate = domain.ownershipCertificateArn
      ? Certificate.fromCertificateArn(this, `${id}OwnershipCertificate`, domain.ownershipCertificateArn)
      : undefined;
    const domainName = new DomainName(this, `${id}Domain`, {
      domainName: domain.domainName,
      certificate,
      ownershipCertificate,
      endpointType: EndpointType.REGIONAL,
      securityPolicy: SecurityPolicy.TLS_1_2,
      mtls: {
        bucket: Bucket.fromBucketName(this, `${id}Truststore`, domain.truststore.bucket),
        key: domain.truststore.key,
        version: domain.truststore.version,
      },
    });
    new ApiMapping(this, `${id}ApiMapping`, { api, domainName, stage });
    return domainName;
  }
}
