import { App } from 'aws-cdk-lib';
import { loadStackConfig } from '../../lib/config';
import { TokenLifecycleStack } from '../../lib/token-lifecycle-stack';
import { API_NAMES } from '../../lib/topology';
import { CERTIFICATE_ARN, WEBHOOK_DOMAIN, resources, getAtt, type Synth, type Resource, useInfraStacks } from '../support/infra-stack';

/** Infra: the webhooks API's custom domain with mutual TLS. Stacks and helpers: test/support/infra-stack.ts. */
const { appProps, service, extended } = useInfraStacks();

describe('webhook API custom domain with mutual TLS', () => {
  const apiProps = (s: Synth, api: 'backoffice' | 'webhooks') => s.template.toJSON().Resources[s.id(s.stack.api.apis[api])].Properties;

  test('with the props: regional DomainName, TLS 1.2, MutualTlsAuthentication with the truststore (and version)', () => {
    const domains = resources(extended, 'AWS::ApiGatewayV2::DomainName');
    expect(domains).toHaveLength(1);
    expect(domains[0]![1].Properties).toEqual({
      DomainName: 'hooks.example.com',
      DomainNameConfigurations: [{ CertificateArn: CERTIFICATE_ARN, EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' }],
      MutualTlsAuthentication: { TruststoreUri: WEBHOOK_DOMAIN.webhookTruststoreUri, TruststoreVersion: WEBHOOK_DOMAIN.webhookTruststoreVersion },
    });
  });

  test("with the props: mapped at the root to the webhooks API's stage; that API's execute-api endpoint is disabled, the back office's is not", () => {
    const [domainId] = resources(extended, 'AWS::ApiGatewayV2::DomainName')[0]!;
    const mappings = resources(extended, 'AWS::ApiGatewayV2::ApiMapping').map(([, m]) => m as Resource & { DependsOn?: string[] });
    // The stage is named, not referenced: DependsOn makes CloudFormation create it before the mapping.
    expect(mappings.map((m) => ({ Properties: m.Properties, DependsOn: m.DependsOn }))).toEqual([
      {
        Properties: { ApiId: { Ref: extended.id(extended.stack.api.apis.webhooks) }, DomainName: { Ref: domainId }, Stage: '$default' },
        DependsOn: [extended.id(extended.stack.api.stages.webhooks)],
      },
    ]);
    expect(apiProps(extended, 'webhooks').DisableExecuteApiEndpoint).toBe(true);
    expect(apiProps(extended, 'backoffice').DisableExecuteApiEndpoint).toBeUndefined();
  });

  test('with the props: outputs the regional target for DNS and the domain URL; a rule pins the certificate to the stack region', () => {
    const [domainId] = resources(extended, 'AWS::ApiGatewayV2::DomainName')[0]!;
    const outputs = extended.template.toJSON().Outputs;
    expect(outputs.WebhookDomainTarget.Value).toEqual(getAtt(domainId, 'RegionalDomainName'));
    expect(outputs.WebhookDomainHostedZoneId.Value).toEqual(getAtt(domainId, 'RegionalHostedZoneId'));
    expect(outputs.WebhooksApiUrl.Value).toBe('https://hooks.example.com/');
    const rules = Object.values(extended.template.toJSON().Rules ?? {}) as { Assertions: { Assert: unknown }[] }[];
    expect(rules.flatMap((r) => r.Assertions.map((a) => a.Assert))).toContainEqual({ 'Fn::Equals': ['eu-west-1', { Ref: 'AWS::Region' }] });
  });

  test('without the props: no DomainName, no mapping, no rule of ours; both execute-api endpoints stay enabled', () => {
    expect(resources(service, 'AWS::ApiGatewayV2::DomainName')).toHaveLength(0);
    expect(resources(service, 'AWS::ApiGatewayV2::ApiMapping')).toHaveLength(0);
    for (const api of API_NAMES) expect(apiProps(service, api).DisableExecuteApiEndpoint).toBeUndefined();
    expect(Object.keys(service.template.toJSON().Rules ?? {}).filter((r) => r !== 'CheckBootstrapVersion')).toEqual([]);
    expect(Object.keys(service.template.toJSON().Outputs)).not.toContain('WebhookDomainTarget');
  });

  test('a certificate from another region than a region-bound stack fails synth', () => {
    const app = new App(appProps(WEBHOOK_DOMAIN));
    const config = loadStackConfig((key) => app.node.tryGetContext(key));
    expect(() => new TokenLifecycleStack(app, 'Elsewhere', { config, env: { region: 'us-east-1', account: '123456789012' } })).toThrow(
      /stack's region us-east-1/,
    );
  });
});
