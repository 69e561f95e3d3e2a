import { App } from 'aws-cdk-lib';
import { loadStackConfig } from '../../lib/config';
import { TokenLifecycleStack } from '../../lib/token-lifecycle-stack';
import { SERVICE_TOPOLOGY, type Topology } from '../../lib/topology';
import {
  PEM_KEY_SENTINEL,
  PEM_CERT_SENTINEL,
  APIKEY_SENTINEL,
  SECRET_MARKERS,
  CLIENT_CERT_NAME,
  CLIENT_KEY_ARN,
  CLIENT_IDENTITY,
  CERTIFICATE_ARN,
  WEBHOOK_DOMAIN,
  useInfraStacks,
} from '../support/infra-stack';

/** Infra: configuration is validated at synth. Stacks and helpers: test/support/infra-stack.ts. */
const { appProps } = useInfraStacks();

describe('configuration is validated at synth', () => {
  const load = (context: Record<string, unknown>) => () => loadStackConfig((key) => context[key]);

  test('defaults are safe placeholders', () => {
    const config = loadStackConfig(() => undefined);
    expect(config).toMatchObject({ issuerId: 'ISSUER0001', d1TimeoutMs: 5000, d1RetryBaseDelayMs: 1000, d1MaxAttempts: 8, reconcileAfterMs: 900000 });
    expect(new URL(config.d1IssuerBaseUrl).hostname.endsWith('.invalid')).toBe(true);
    expect(config.secrets).toEqual({});
  });

  test('bad values fail naming the context key', () => {
    expect(load({ issuerId: 'SHORT' })).toThrow(/issuerId: must be exactly 10 characters/);
    expect(load({ d1MaxAttempts: 'many' })).toThrow(/d1MaxAttempts/);
    expect(load({ d1CofBaseUrl: 'http://d1.example.com' })).toThrow(/d1CofBaseUrl/);
    expect(load({ trJwePrivateKeySecret: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:partial' })).toThrow(/trJwePrivateKeySecret/);
    expect(load({ d1TimeoutMs: '2000' })().d1TimeoutMs).toBe(2000); // -c values arrive as strings
    // The console agents' role: a role name, not an ARN.
    expect(load({ consoleAgentRoleName: 'arn:aws:iam::123456789012:role/agents' })).toThrow(/consoleAgentRoleName/);
    expect(load({ consoleAgentRoleName: 'token-console-agents' })().consoleAgentRoleName).toBe('token-console-agents');
  });

  test('client certificate and key: both or neither, each a secret ARN or name', () => {
    expect(load({ d1ClientCertSecret: CLIENT_CERT_NAME })).toThrow(/d1ClientCertSecret and d1ClientKeySecret.*or neither/);
    expect(load({ d1ClientKeySecret: CLIENT_KEY_ARN })).toThrow(/d1ClientCertSecret and d1ClientKeySecret.*or neither/);
    expect(load({ ...CLIENT_IDENTITY, d1ClientKeySecret: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:partial' })).toThrow(/d1ClientKeySecret/);
    expect(load(CLIENT_IDENTITY)().optionalSecrets).toEqual({
      D1_CLIENT_CERT: { kind: 'name', value: CLIENT_CERT_NAME },
      D1_CLIENT_KEY: { kind: 'arn', value: CLIENT_KEY_ARN },
    });
    expect(load({})().optionalSecrets).toEqual({});
  });

  test('a secret value pasted where a name/ARN belongs is refused, and the error does not repeat it', () => {
    for (const [key, value] of [
      ['d1ClientKeySecret', PEM_KEY_SENTINEL],
      ['d1ClientCertSecret', PEM_CERT_SENTINEL],
      ['trApiKeySecret', APIKEY_SENTINEL],
      ['trJwePrivateKeySecret', PEM_KEY_SENTINEL],
    ] as const) {
      const context = { ...CLIENT_IDENTITY, [key]: value };
      let message = '';
      try {
        load(context)();
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain(key);
      for (const marker of SECRET_MARKERS) expect(message).not.toContain(marker);
    }
  });

  test('webhook domain: the three keys together, valid values, optional ones only with them', () => {
    const { webhookTruststoreVersion: _version, ...required } = WEBHOOK_DOMAIN;
    expect(load({ webhookDomainName: 'hooks.example.com' })).toThrow(/webhookCertificateArn\/webhookTruststoreUri: required with webhookDomainName/);
    expect(load({ ...required, webhookTruststoreUri: undefined })).toThrow(/webhookTruststoreUri: required/);
    expect(load({ webhookTruststoreVersion: 'v1' })).toThrow(/webhookTruststoreVersion: only meaningful with/);
    expect(load({ ...required, webhookCertificateArn: 'arn:aws:iam::123456789012:server-certificate/x' })).toThrow(
      /webhookCertificateArn: must be an ACM certificate ARN/,
    );
    expect(load({ ...required, webhookTruststoreUri: 'https://bucket.s3.amazonaws.com/truststore.pem' })).toThrow(/webhookTruststoreUri: must be s3:/);
    expect(load({ ...required, webhookDomainName: 'https://hooks.example.com' })).toThrow(/webhookDomainName: must be a DNS name/);
    expect(load(required)().webhookDomain).toEqual({
      domainName: 'hooks.example.com',
      certificateArn: CERTIFICATE_ARN,
      ownershipCertificateArn: undefined,
      truststore: { bucket: 'issuer-truststores', key: 'thales/d1-client-ca.pem', version: undefined },
    });
    expect(load({})().webhookDomain).toBeUndefined();
  });

  test('a handler needing an env var the stack cannot provide fails synth', () => {
    const topology: Topology = { ...SERVICE_TOPOLOGY, handlers: { ...SERVICE_TOPOLOGY.handlers, health: { env: ['PORT'], table: 'none', sendsTo: [] } } };
    const app = new App(appProps());
    expect(() => new TokenLifecycleStack(app, 'Bad', { config: loadStackConfig(() => undefined), topology })).toThrow(/health: needs env PORT/);
  });
});
