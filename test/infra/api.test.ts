import { API_NAMES } from '../../lib/topology';
import { routeKey, type HandlerName } from '../../lambdas/topology';
import { resources, getAtt, useInfraStacks } from '../support/infra-stack';

/** Infra: the two HTTP APIs: routes, their authorization, the per-API fallback and the stages. Stacks and helpers: test/support/infra-stack.ts. */
const { service, cases } = useInfraStacks();

describe.each(cases)('%s', (_name, get) => {
  test('routes: one per HTTP_ROUTES entry on its API, plus $default on each API; iam routes use AWS_IAM', () => {
    const s = get();
    const routes = resources(s, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    expect(routes).toHaveLength(s.topology.httpRoutes.length + API_NAMES.length);
    for (const route of s.topology.httpRoutes) {
      const apiId = s.id(s.stack.api.apis[route.api]);
      const found = routes.filter((r) => r.RouteKey === routeKey(route) && r.ApiId.Ref === apiId);
      expect(found).toHaveLength(1);
      expect(found[0]!.AuthorizationType).toBe(route.auth === 'iam' ? 'AWS_IAM' : 'NONE');
    }
    for (const api of API_NAMES) {
      expect(routes.filter((r) => r.RouteKey === '$default' && r.ApiId.Ref === s.id(s.stack.api.apis[api]))).toHaveLength(1);
    }
  });

  test('$default of each API goes to a fallback Lambda that knows its API (API_NAME)', () => {
    const s = get();
    const json = s.template.toJSON().Resources;
    for (const api of API_NAMES) {
      const [, route] = resources(s, 'AWS::ApiGatewayV2::Route').find(
        ([, r]) => r.Properties.RouteKey === '$default' && r.Properties.ApiId.Ref === s.id(s.stack.api.apis[api]),
      )!;
      const integrationId = route.Properties.Target['Fn::Join'][1][1].Ref as string;
      const fnId = json[integrationId].Properties.IntegrationUri['Fn::GetAtt'][0] as string;
      expect(json[fnId].Properties.Environment.Variables.API_NAME).toBe(api);
    }
  });

  test('stages: $default, auto-deployed, JSON access logs, throttled; both URLs are outputs', () => {
    const s = get();
    const stages = resources(s, 'AWS::ApiGatewayV2::Stage').map(([, st]) => st.Properties);
    expect(stages).toHaveLength(API_NAMES.length);
    for (const stage of stages) {
      expect(stage).toMatchObject({ StageName: '$default', AutoDeploy: true, DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 } });
      expect(JSON.parse(stage.AccessLogSettings.Format)).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
    }
    expect(Object.keys(s.template.toJSON().Outputs)).toEqual(expect.arrayContaining(['BackofficeApiUrl', 'WebhooksApiUrl']));
  });
});

describe('service topology: network tokens, token updates and reconciliation', () => {
  const fnOf = (handler: HandlerName) => service.stack.functions.forApi(handler, 'backoffice');
  const routeTo = (key: string) => {
    const json = service.template.toJSON().Resources;
    const routes = resources(service, 'AWS::ApiGatewayV2::Route').filter(([, r]) => r.Properties.RouteKey === key);
    expect(routes).toHaveLength(1);
    const [, route] = routes[0]!;
    const integrationId = route.Properties.Target['Fn::Join'][1][1].Ref as string;
    return { route: route.Properties, fnId: json[integrationId].Properties.IntegrationUri['Fn::GetAtt'][0] as string };
  };

  test('POST /v1/cards/{issuerCardRefId}/reconcile: AWS_IAM, to the reconcile Lambda (not the sweep)', () => {
    const { route, fnId } = routeTo('POST /v1/cards/{issuerCardRefId}/reconcile');
    expect(route.AuthorizationType).toBe('AWS_IAM');
    expect(route.ApiId).toEqual({ Ref: service.id(service.stack.api.apis.backoffice) });
    expect(fnId).toBe(service.id(fnOf('reconcile')));
    expect(fnId).not.toBe(service.id(fnOf('reconcile-sweep')));
  });

  test('token-pan and transactions are separate AWS_IAM routes (grantable one by one), both to network-token-credentials', () => {
    const tokenPan = routeTo('GET /v1/network-tokens/{tokenId}/token-pan');
    const transactions = routeTo('POST /v1/network-tokens/{tokenId}/transactions');
    const reads = routeTo('GET /v1/network-tokens/{tokenId}');
    for (const r of [tokenPan, transactions, reads]) {
      expect(r.route.AuthorizationType).toBe('AWS_IAM');
      expect(r.route.ApiId).toEqual({ Ref: service.id(service.stack.api.apis.backoffice) });
    }
    // No greedy path or ANY method could cover both: an execute-api:Invoke grant on one route key stays on it.
    const keys = resources(service, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey as string);
    expect(keys.filter((k) => k.includes('+}') || k.startsWith('ANY '))).toEqual([]);
    expect([tokenPan.fnId, transactions.fnId]).toEqual([service.id(fnOf('network-token-credentials')), service.id(fnOf('network-token-credentials'))]);
    // Plain token reads stay out of the PCI-scoped Lambda.
    expect(reads.fnId).toBe(service.id(fnOf('network-token-queries')));
  });
});

describe('service topology: LCM operations and the D1 submitter', () => {
  const fnId = (handler: 'lcm-operations' | 'd1-submitter') => service.id(service.stack.functions.forApi(handler, 'backoffice'));

  test.each(['POST /v1/lcm-operations', 'GET /v1/lcm-operations/{operationId}'])('%s: one back-office route, AWS_IAM, to the lcm-operations Lambda', (key) => {
    const json = service.template.toJSON().Resources;
    const routes = resources(service, 'AWS::ApiGatewayV2::Route').filter(([, r]) => r.Properties.RouteKey === key);
    expect(routes).toHaveLength(1);
    const [, route] = routes[0]!;
    expect(route.Properties.ApiId).toEqual({ Ref: service.id(service.stack.api.apis.backoffice) });
    expect(route.Properties.AuthorizationType).toBe('AWS_IAM');
    const integrationId = route.Properties.Target['Fn::Join'][1][1].Ref as string;
    expect(json[integrationId].Properties.IntegrationUri).toEqual(getAtt(fnId('lcm-operations')));
  });
});
