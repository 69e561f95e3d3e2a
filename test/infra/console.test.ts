import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { loadStackConfig } from '../../lib/config';
import { CONSOLE_AGENT_ROLE_ENV, CONSOLE_ROUTES, DENIED_ROUTES, type ConsoleGroup } from '../../lib/constructs/console';
import { TokenLifecycleStack } from '../../lib/token-lifecycle-stack';
import { SERVICE_TOPOLOGY } from '../../lib/topology';
import { resources, useInfraStacks, type Resource, type Statement } from '../support/infra-stack';

/** Infra: the operations console (hosting, sign-in, the groups' roles, CORS). Stacks and helpers: test/support/infra-stack.ts. */
const { appProps, service } = useInfraStacks();

const PREFIX = 'tl-console-test';
let assetsDir: string;
beforeAll(() => {
  assetsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'console-assets-'));
  fs.writeFileSync(path.join(assetsDir, 'index.html'), '<!doctype html><title>console</title>\n');
});
afterAll(() => fs.rmSync(assetsDir, { recursive: true, force: true }));

function synthConsole() {
  const app = new App(appProps({ consoleCognitoDomainPrefix: PREFIX }));
  const config = loadStackConfig((key) => app.node.tryGetContext(key));
  const stack = new TokenLifecycleStack(app, 'Test', { config, topology: SERVICE_TOPOLOGY, consoleAssetsDir: assetsDir });
  const template = Template.fromStack(stack);
  const id = (construct: IConstruct) => stack.resolve(stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement)) as string;
  return {
    app,
    stack,
    template,
    id,
    console: stack.console!,
    json: template.toJSON() as { Resources: Record<string, Resource>; Outputs: Record<string, any> },
  };
}
let memo: ReturnType<typeof synthConsole> | undefined;
const get = () => (memo ??= synthConsole());
const typed = (type: string) => resources({ template: get().template } as never, type);

/** A CloudFormation string value (`Fn::Join` of text, `Ref`s and `Fn::GetAtt`s) as text with `${Ref}` placeholders. */
const render = (value: unknown): string => {
  if (typeof value === 'string') return value;
  const v = value as Record<string, any>;
  if (v.Ref) return `\${${v.Ref}}`;
  if (v['Fn::GetAtt']) return `\${${v['Fn::GetAtt'].join('.')}}`;
  if (v['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).map(render).join(v['Fn::Join'][0]);
  throw new Error(`cannot render ${JSON.stringify(value)}`);
};

/** IAM resource matching: `*` is any run of characters (`/` included), `?` one character. */
const iamMatches = (pattern: string, arn: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(arn);

describe('operations console (context consoleCognitoDomainPrefix)', () => {
  const roleStatements = (group: ConsoleGroup): Statement[] => {
    const roleId = get().id(get().console.roles[group]);
    const attached = typed('AWS::IAM::Policy').filter(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === roleId));
    const inline = (get().json.Resources[roleId]!.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
    return [...inline, ...attached.map(([, p]) => p.Properties)].flatMap((p) => p.PolicyDocument.Statement);
  };
  const apiId = () => get().id(get().stack.api.apis.backoffice);
  const requestArn = (method: string, requestPath: string) =>
    `arn:\${AWS::Partition}:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${${apiId()}}/$default/${method}${requestPath}`;
  /** IAM's decision for this role on one request: an explicit deny wins, then an allow, else the implicit deny. */
  const decision = (group: ConsoleGroup, method: string, requestPath: string): 'allow' | 'deny' => {
    const arn = requestArn(method, requestPath);
    const matching = roleStatements(group).filter(
      (st) => [st.Action].flat().includes('execute-api:Invoke') && [st.Resource].flat().some((r) => iamMatches(render(r), arn)),
    );
    if (matching.some((st) => st.Effect === 'Deny')) return 'deny';
    return matching.some((st) => st.Effect === 'Allow') ? 'allow' : 'deny';
  };
  const allowedResources = (group: ConsoleGroup) =>
    roleStatements(group)
      .filter((st) => st.Effect === 'Allow')
      .flatMap((st) => [st.Resource].flat().map(render));

  test('bucket: all public access blocked, TLS-only policy, versioned, S3-managed encryption, access logs', () => {
    const { id, console: c, json } = get();
    const bucket = json.Resources[id(c.bucket)]!;
    expect(bucket.Properties).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      LoggingConfiguration: { DestinationBucketName: { Ref: id(c.logsBucket) } },
    });
    for (const b of [c.bucket, c.logsBucket]) {
      const [, policy] = typed('AWS::S3::BucketPolicy').find(([, p]) => p.Properties.Bucket.Ref === id(b))!;
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
    // The bucket is readable by this distribution only (OAC), by nobody else.
    const [, policy] = typed('AWS::S3::BucketPolicy').find(([, p]) => p.Properties.Bucket.Ref === id(c.bucket))!;
    const allows = policy.Properties.PolicyDocument.Statement.filter((st: any) => st.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    expect(allows[0]).toMatchObject({ Action: 's3:GetObject', Principal: { Service: 'cloudfront.amazonaws.com' } });
    expect(render(allows[0].Condition.StringEquals['AWS:SourceArn'])).toContain(`distribution/\${${id(c.distribution)}}`);
  });

  test('distribution: S3 origin with origin access control, redirect-to-https, the security headers policy', () => {
    const { id, console: c, json } = get();
    const config = json.Resources[id(c.distribution)]!.Properties.DistributionConfig;
    expect(config.Origins).toHaveLength(1);
    expect(config.Origins[0].OriginAccessControlId).toBeDefined();
    expect(config.Origins[0].S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    expect(typed('AWS::CloudFront::OriginAccessControl').map(([, o]) => o.Properties.OriginAccessControlConfig)).toEqual([
      expect.objectContaining({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' }),
    ]);
    expect(config.DefaultCacheBehavior).toMatchObject({
      ViewerProtocolPolicy: 'redirect-to-https',
      AllowedMethods: ['GET', 'HEAD'],
      ResponseHeadersPolicyId: { Ref: id(c.responseHeaders) },
    });
    expect(config.CacheBehaviors).toBeUndefined();
    expect(config.Logging.Bucket).toEqual({ 'Fn::GetAtt': [id(c.logsBucket), 'RegionalDomainName'] });
  });

  test('security headers: strict CSP naming the API host, Cognito and the hosted UI; HSTS, nosniff, frame DENY, no-referrer', () => {
    const { id, console: c, json } = get();
    const headers = json.Resources[id(c.responseHeaders)]!.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    const hostedUi = `https://${PREFIX}.auth.\${AWS::Region}.amazoncognito.com`;
    expect(render(headers.ContentSecurityPolicy.ContentSecurityPolicy)).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
        `connect-src 'self' https://*.execute-api.\${AWS::Region}.amazonaws.com https://cognito-idp.\${AWS::Region}.amazonaws.com ` +
        `https://cognito-identity.\${AWS::Region}.amazonaws.com ${hostedUi}; ` +
        `base-uri 'none'; form-action 'self' ${hostedUi}; frame-ancestors 'none'`,
    );
    expect(headers.ContentSecurityPolicy.Override).toBe(true);
    expect(headers.StrictTransportSecurity).toMatchObject({ AccessControlMaxAgeSec: 730 * 86400, IncludeSubdomains: true, Override: true });
    expect(headers.ContentTypeOptions).toEqual({ Override: true });
    expect(headers.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
    expect(headers.ReferrerPolicy).toEqual({ ReferrerPolicy: 'no-referrer', Override: true });
  });

  test('paths: /, /console and /console/index.html redirect to /console/, a directory path serves its index.html, files pass as they are', () => {
    const [[, fn]] = typed('AWS::CloudFront::Function') as [[string, Resource]];
    expect(fn.Properties.FunctionConfig.Runtime).toBe('cloudfront-js-2.0');
    const handler = new Function(`${fn.Properties.FunctionCode as string}\nreturn handler;`)() as (e: unknown) => any;
    const run = (uri: string) => handler({ request: { uri, headers: {} } });
    for (const uri of ['/', '/console', '/console/index.html'])
      expect(run(uri)).toMatchObject({ statusCode: 301, headers: { location: { value: '/console/' } } });
    expect(run('/console/').uri).toBe('/console/index.html');
    expect(run('/console/config.json').uri).toBe('/console/config.json');
    expect(run('/console/assets/app.js').uri).toBe('/console/assets/app.js');
  });

  test('user pool: no self sign-up, TOTP MFA required, strong passwords, threat protection, email recovery, retained', () => {
    const { id, console: c, json } = get();
    const pool = json.Resources[id(c.userPool)]!;
    expect(pool.Properties).toMatchObject({
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      Policies: { PasswordPolicy: { MinimumLength: 14, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true } },
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
      AccountRecoverySetting: { RecoveryMechanisms: [{ Name: 'verified_email', Priority: 1 }] },
      DeletionProtection: 'ACTIVE',
    });
    expect(pool.DeletionPolicy).toBe('Retain');
    expect(typed('AWS::Cognito::UserPoolDomain').map(([, d]) => d.Properties)).toEqual([{ Domain: PREFIX, UserPoolId: { Ref: id(c.userPool) } }]);
  });

  test('app client: public (no secret), authorization code grant only, openid/email/profile, the console URL, short tokens', () => {
    const { id, console: c } = get();
    const clients = typed('AWS::Cognito::UserPoolClient');
    expect(clients).toHaveLength(1);
    const client = clients[0]![1].Properties;
    const url = `https://\${${id(c.distribution)}.DomainName}/console/`;
    expect(client).toMatchObject({
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      SupportedIdentityProviders: ['COGNITO'],
      AccessTokenValidity: 15,
      IdTokenValidity: 15,
      RefreshTokenValidity: 480,
      TokenValidityUnits: { AccessToken: 'minutes', IdToken: 'minutes', RefreshToken: 'minutes' },
    });
    expect([...client.AllowedOAuthScopes].sort()).toEqual(['email', 'openid', 'profile']);
    expect(client.CallbackURLs.map(render)).toEqual([url]);
    expect(client.LogoutURLs.map(render)).toEqual([url]);
    // No password flows: sign-in goes through the hosted UI only.
    expect(client.ExplicitAuthFlows ?? []).not.toEqual(expect.arrayContaining(['ALLOW_USER_PASSWORD_AUTH']));
    expect(client.ExplicitAuthFlows ?? []).not.toEqual(expect.arrayContaining(['ALLOW_ADMIN_USER_PASSWORD_AUTH']));
  });

  test('groups agents and supervisors, each with its role; supervisors take precedence', () => {
    const { id, console: c } = get();
    const groups = Object.fromEntries(typed('AWS::Cognito::UserPoolGroup').map(([, g]) => [g.Properties.GroupName, g.Properties]));
    expect(Object.keys(groups).sort()).toEqual(['agents', 'supervisors']);
    for (const group of ['agents', 'supervisors'] as const) {
      expect(groups[group]).toMatchObject({ UserPoolId: { Ref: id(c.userPool) }, RoleArn: { 'Fn::GetAtt': [id(c.roles[group]), 'Arn'] } });
    }
    expect(groups.supervisors.Precedence).toBeLessThan(groups.agents.Precedence);
  });

  test('identity pool: no unauthenticated identities, the user pool as provider, roles from the token, ambiguous → deny', () => {
    const { id, console: c, json } = get();
    const pool = json.Resources[id(c.identityPool)]!.Properties;
    expect(pool.AllowUnauthenticatedIdentities).toBe(false);
    expect(pool.CognitoIdentityProviders).toEqual([expect.objectContaining({ ClientId: { Ref: id(c.client) }, ServerSideTokenCheck: true })]);
    const [[, attachment]] = typed('AWS::Cognito::IdentityPoolRoleAttachment') as [[string, Resource]];
    const mappings = Object.values(attachment.Properties.RoleMappings) as any[];
    expect(mappings).toHaveLength(1);
    expect(mappings[0]).toMatchObject({ Type: 'Token', AmbiguousRoleResolution: 'Deny' });
    expect(render(mappings[0].IdentityProvider)).toBe(`\${${id(c.userPool)}.ProviderName}:\${${id(c.client)}}`);
    // The default authenticated role (what a token without a role would get) may do nothing at all.
    const defaultRoleId = attachment.Properties.Roles.authenticated['Fn::GetAtt'][0] as string;
    const defaultRole = json.Resources[defaultRoleId]!.Properties;
    expect(defaultRole.Policies).toBeUndefined();
    expect(defaultRole.ManagedPolicyArns).toBeUndefined();
    expect(typed('AWS::IAM::Policy').filter(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === defaultRoleId))).toEqual([]);
  });

  test('group roles: assumable only through this identity pool by authenticated identities', () => {
    const { id, console: c, json } = get();
    for (const group of ['agents', 'supervisors'] as const) {
      const trust = json.Resources[id(c.roles[group])]!.Properties.AssumeRolePolicyDocument.Statement;
      expect(trust).toEqual([
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRoleWithWebIdentity',
          Principal: { Federated: 'cognito-identity.amazonaws.com' },
          Condition: {
            StringEquals: { 'cognito-identity.amazonaws.com:aud': { Ref: id(c.identityPool) } },
            'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'authenticated' },
          },
        },
      ]);
    }
  });

  test("roles: execute-api:Invoke on exactly their routes of this API's $default stage; agents cannot run bulk jobs", () => {
    const expected = (group: ConsoleGroup) => CONSOLE_ROUTES[group].map(([method, p]) => requestArn(method, p));
    for (const group of ['agents', 'supervisors'] as const) {
      expect(allowedResources(group).sort()).toEqual(expected(group).sort());
      for (const st of roleStatements(group)) expect([st.Action].flat()).toEqual(['execute-api:Invoke']);
    }
    for (const [method, p] of [
      ['GET', '/v1/tokens/V123'],
      ['GET', '/v1/tokens/V123/history'],
      ['GET', '/v1/cards/C1/tokens'],
      ['GET', '/v1/lcm-operations/op-1'],
      ['POST', '/v1/lcm-operations'],
      ['GET', '/v1/network-tokens/T1'],
      ['GET', '/v1/lcm-jobs/J1'],
      ['GET', '/v1/lcm-jobs/J1/cards'],
      ['GET', '/v1/event-subscriptions'],
    ] as const) {
      expect([method, p, decision('agents', method, p)]).toEqual([method, p, 'allow']);
      expect([method, p, decision('supervisors', method, p)]).toEqual([method, p, 'allow']);
    }
    for (const p of ['/v1/lcm-jobs', '/v1/lcm-jobs/J1/cards', '/v1/lcm-jobs/J1/start', '/v1/lcm-jobs/J1/cancel']) {
      expect([p, decision('agents', 'POST', p)]).toEqual([p, 'deny']);
      expect([p, decision('supervisors', 'POST', p)]).toEqual([p, 'allow']);
    }
    // Neither group manages subscriptions, reconciles or deletes anything.
    for (const group of ['agents', 'supervisors'] as const) {
      expect(decision(group, 'POST', '/v1/event-subscriptions')).toBe('deny');
      expect(decision(group, 'DELETE', '/v1/event-subscriptions/S1')).toBe('deny');
      expect(decision(group, 'POST', '/v1/cards/C1/reconcile')).toBe('deny');
      expect(decision(group, 'POST', '/v1/network-tokens/T1/transactions')).toBe('deny');
      expect(decision(group, 'GET', '/v1/events')).toBe('deny');
      // Every grant names its method: no DELETE, no wildcard method.
      expect(allowedResources(group).filter((r) => !/\/\$default\/(GET|POST)\//.test(r))).toEqual([]);
    }
  });

  test('no console role can read a token PAN: no allowed resource names it, and an explicit deny covers what a wildcard would', () => {
    for (const group of ['agents', 'supervisors'] as const) {
      expect(allowedResources(group).filter((r) => r.includes('token-pan'))).toEqual([]);
      for (const method of ['GET', 'POST', 'HEAD']) {
        for (const tokenId of ['T1', 'a-b_c.d', 'x/y']) {
          expect([group, method, tokenId, decision(group, method, `/v1/network-tokens/${tokenId}/token-pan`)]).toEqual([group, method, tokenId, 'deny']);
        }
      }
      // The deny is what stops it: `GET /v1/network-tokens/*` alone would match the token-PAN route (IAM `*` spans `/`).
      const denies = roleStatements(group).filter((st) => st.Effect === 'Deny');
      expect(denies.flatMap((st) => [st.Resource].flat().map(render))).toEqual(DENIED_ROUTES.map(([m, p]) => requestArn(m, p)));
    }
  });

  test('every route a console role is granted exists on the back-office API with IAM (a renamed route cannot leave a dead grant)', () => {
    const iamRoutes = SERVICE_TOPOLOGY.httpRoutes.filter((r) => r.api === 'backoffice' && r.auth === 'iam');
    for (const group of ['agents', 'supervisors'] as const) {
      for (const [method, pattern] of CONSOLE_ROUTES[group]) {
        const hits = iamRoutes.filter((r) => r.method === method && iamMatches(pattern, r.path.replace(/\{[^}]+\}/g, 'X')));
        expect([group, method, pattern, hits.length > 0]).toEqual([group, method, pattern, true]);
      }
    }
  });

  test(`${CONSOLE_AGENT_ROLE_ENV}: on the lcm-operations and lcm-jobs Lambdas only, equal to the agents role's name`, () => {
    const { id, console: c, json, stack } = get();
    const roleName = render(json.Resources[id(c.roles.agents)]!.Properties.RoleName);
    expect(roleName).toBe('Test-console-agents-${AWS::Region}');
    const withVar = typed('AWS::Lambda::Function').filter(([, fn]) => fn.Properties.Environment?.Variables?.[CONSOLE_AGENT_ROLE_ENV] !== undefined);
    expect(withVar.map(([fnId]) => fnId).sort()).toEqual(
      [id(stack.functions.forApi('lcm-operations', 'backoffice')), id(stack.functions.forApi('lcm-jobs', 'backoffice'))].sort(),
    );
    for (const [, fn] of withVar) expect(render(fn.Properties.Environment.Variables[CONSOLE_AGENT_ROLE_ENV])).toBe(roleName);
  });

  test('assets: one deployment of the built directory and config.json under console/, with exactly the documented keys', () => {
    const { app, id, console: c } = get();
    const deployments = typed('Custom::CDKBucketDeployment');
    expect(deployments).toHaveLength(1);
    const props = deployments[0]![1].Properties;
    expect(props).toMatchObject({ DestinationBucketName: { Ref: id(c.bucket) }, DestinationBucketKeyPrefix: 'console/', Prune: true });
    expect(props.DistributionId).toEqual({ Ref: id(c.distribution) });
    expect(props.SourceObjectKeys).toHaveLength(2);
    const staged = (key: string) => path.join(app.outdir, `asset.${key.replace(/\.zip$/, '')}`);
    expect(fs.readFileSync(path.join(staged(props.SourceObjectKeys[0]), 'index.html'), 'utf8')).toContain('<title>console</title>');
    const raw = fs.readFileSync(path.join(staged(props.SourceObjectKeys[1]), 'config.json'), 'utf8');
    // Deploy-time values are markers the custom resource replaces; render them as the tokens they stand for.
    const markers = props.SourceMarkers[1] as Record<string, unknown>;
    const config = JSON.parse(raw.replace(/<<marker:0xbaba:\d+>>/g, (m) => render(markers[m]))) as Record<string, string>;
    expect(Object.keys(config).sort()).toEqual(['apiUrl', 'cognitoDomain', 'identityPoolId', 'mode', 'region', 'userPoolClientId', 'userPoolId'].sort());
    expect(config).toEqual({
      mode: 'aws',
      region: '${AWS::Region}',
      apiUrl: `https://\${${apiId()}}.execute-api.\${AWS::Region}.\${AWS::URLSuffix}/`,
      userPoolId: `\${${id(c.userPool)}}`,
      userPoolClientId: `\${${id(c.client)}}`,
      cognitoDomain: `${PREFIX}.auth.\${AWS::Region}.amazoncognito.com`,
      identityPoolId: `\${${id(c.identityPool)}}`,
    });
  });

  test('CORS: the back-office API allows the console origin, GET and POST with the SigV4 headers; webhooks has none; $default stays', () => {
    const { id, console: c, stack, json } = get();
    const cors = json.Resources[id(stack.api.apis.backoffice)]!.Properties.CorsConfiguration;
    expect(cors.AllowOrigins.map(render)).toEqual([`https://\${${id(c.distribution)}.DomainName}`]);
    expect([...cors.AllowMethods].sort()).toEqual(['GET', 'POST']);
    expect([...cors.AllowHeaders].sort()).toEqual([
      'authorization',
      'content-type',
      'idempotency-key',
      'x-amz-content-sha256',
      'x-amz-date',
      'x-amz-security-token',
    ]);
    expect(cors.AllowCredentials).toBeUndefined();
    expect(json.Resources[id(stack.api.apis.webhooks)]!.Properties.CorsConfiguration).toBeUndefined();
    const defaults = typed('AWS::ApiGatewayV2::Route').filter(([, r]) => r.Properties.RouteKey === '$default' && r.Properties.ApiId.Ref === apiId());
    expect(defaults.map(([, r]) => r.Properties.AuthorizationType)).toEqual(['NONE']);
    expect(typed('AWS::ApiGatewayV2::Route').filter(([, r]) => String(r.Properties.RouteKey).startsWith('OPTIONS'))).toEqual([]);
  });

  test('outputs: the console URL, the user pool id and the agents role name', () => {
    const { id, console: c, json } = get();
    expect(render(json.Outputs.ConsoleUrl.Value)).toBe(`https://\${${id(c.distribution)}.DomainName}/console/`);
    expect(json.Outputs.ConsoleUserPoolId.Value).toEqual({ Ref: id(c.userPool) });
    expect(json.Outputs.ConsoleAgentsRoleName.Value).toEqual({ Ref: id(c.roles.agents) });
  });
});

describe('without consoleCognitoDomainPrefix', () => {
  test('no console at all: no bucket deployment, CloudFront, Cognito, and no CORS on the back-office API', () => {
    expect(service.stack.console).toBeUndefined();
    const types = Object.values(service.template.toJSON().Resources as Record<string, Resource>).map((r) => r.Type);
    for (const type of types) expect(type).not.toMatch(/^AWS::(CloudFront|Cognito)::|^Custom::CDKBucketDeployment$|^AWS::S3::Bucket$/);
    expect(service.template.toJSON().Resources[service.id(service.stack.api.apis.backoffice)].Properties.CorsConfiguration).toBeUndefined();
    expect(Object.keys(service.template.toJSON().Outputs)).not.toContain('ConsoleUrl');
  });

  test('a console without its built assets stops synth', () => {
    const app = new App(appProps({ consoleCognitoDomainPrefix: PREFIX }));
    const config = loadStackConfig((key) => app.node.tryGetContext(key));
    expect(() => new TokenLifecycleStack(app, 'Test', { config })).toThrow(/consoleAssetsDir/);
  });
});
