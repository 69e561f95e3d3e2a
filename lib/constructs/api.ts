import { Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpRoute, HttpRouteKey, HttpStage, LogGroupLogDestination, type IHttpRouteAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { routeKey, type ApiName, type HttpRoute as RouteSpec } from '../../lambdas/topology';
import type { StackConfig } from '../config';
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
function whyNoIam(api: ApiName, route: Pick<RouteSpec, 'path'> | '$default'): string | undefined {
  if (route === '$default') {
    return 'Fallback for paths no route matches: it only answers the service\'s 404/405 error body and reads no data. ' +
      'With IAM on it, unsigned requests to unknown paths would get API Gateway\'s 403 instead of the documented 404.';
  }
  if (route.path === '/health') return 'Liveness probe: answers {"status":"ok"} without touching any data or dependency.';
  if (api === 'webhooks') {
    return 'Called by Thales D1, which cannot SigV4-sign requests; the handler checks every call before recording it: ' +
      'notify-token-update compares its APIKEY with TR_API_KEY in constant time; notifyVirtualCardChange accepts only our ' +
      'x-issuer-id and is meant to sit behind a mutual-TLS custom domain trusting Thales\' CA (DESIGN §7). ' +
      'Rejections are counted and alarmed (RejectedRequests).';
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
 */
export class Api extends Construct {
  readonly apis: Record<ApiName, HttpApi>;
  readonly stages: Record<ApiName, HttpStage>;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const { config, topology, functions } = props;
    const iam = new HttpIamAuthorizer();
    const apis = {} as Record<ApiName, HttpApi>;
    const stages = {} as Record<ApiName, HttpStage>;

    for (const apiName of API_NAMES) {
      const name = pascal(apiName);
      // Own stage below: the default stage created by HttpApi cannot take access-log settings.
      const api = new HttpApi(this, name, { description: APIS[apiName].description, createDefaultStage: false });
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
        addRoute(`${name}${pascal(routeKey(route))}`, key, fn, authorizer, authorizer ? undefined : whyNoIam(apiName, route));
      }
      addRoute(`${name}Default`, HttpRouteKey.DEFAULT, functions.forApi(topology.fallbackHandler, apiName), undefined, whyNoIam(apiName, '$default'));
      apis[apiName] = api;
    }
    this.apis = apis;
    this.stages = stages;
  }
}
