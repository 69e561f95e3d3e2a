import { Aws, Duration, RemovalPolicy, Stack, Token, Validations, type CfnResource } from 'aws-cdk-lib';
import type { HttpApi, HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  Function as CloudFrontFunction,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import {
  AccountRecovery,
  FeaturePlan,
  Mfa,
  OAuthScope,
  StandardThreatProtectionMode,
  UserPool,
  UserPoolClient,
  UserPoolClientIdentityProvider,
  UserPoolDomain,
  UserPoolGroup,
} from 'aws-cdk-lib/aws-cognito';
import { IdentityPool, IdentityPoolProviderUrl, UserPoolAuthenticationProvider } from 'aws-cdk-lib/aws-cognito-identitypool';
import { Effect, FederatedPrincipal, PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';

/** Key prefix of the console's files in the bucket, and the path the distribution serves them under. */
export const CONSOLE_PREFIX = 'console';
/** The env var the lcm-operations and lcm-jobs Lambdas read to refuse what agents may not do (IAM cannot see bodies). */
export const CONSOLE_AGENT_ROLE_ENV = 'CONSOLE_AGENT_ROLE_NAME';

export type ConsoleGroup = 'agents' | 'supervisors';
type Method = 'GET' | 'POST';

/**
 * What each console group may invoke on the back-office API, as `[method, path]` with IAM wildcards (`*` matches any
 * characters, `/` included). Reading is the same for both groups; supervisors may also run bulk jobs.
 *
 * `GET /v1/network-tokens/*` also matches `/v1/network-tokens/{tokenId}/token-pan` (IAM has no one-segment
 * wildcard), so every console role carries the explicit deny of `DENIED_ROUTES`: no console user can read a token PAN.
 */
export const CONSOLE_ROUTES: Record<ConsoleGroup, readonly (readonly [Method, string])[]> = (() => {
  const reads = [
    ['GET', '/v1/tokens/*'],
    ['GET', '/v1/cards/*/tokens'],
    ['GET', '/v1/lcm-operations/*'],
    ['GET', '/v1/network-tokens/*'],
    ['GET', '/v1/lcm-jobs/*'],
    ['GET', '/v1/event-subscriptions'],
  ] as const;
  const agents = [...reads, ['POST', '/v1/lcm-operations']] as const;
  const supervisors = [
    ...agents,
    ['POST', '/v1/lcm-jobs'],
    ['POST', '/v1/lcm-jobs/*/cards'],
    ['POST', '/v1/lcm-jobs/*/start'],
    ['POST', '/v1/lcm-jobs/*/cancel'],
  ] as const;
  return { agents, supervisors };
})();

/** Denied to every console role whatever it is allowed: the token PAN (any method, any token id). */
export const DENIED_ROUTES: readonly (readonly ['*', string])[] = [['*', '/v1/network-tokens/*/token-pan']];

/** Group precedence: a user in both groups gets the supervisors role as `cognito:preferred_role` (lower wins). */
const GROUPS: Record<ConsoleGroup, { precedence: number; description: string }> = {
  supervisors: { precedence: 1, description: 'Supervisors: everything agents may do, plus bulk LCM jobs (create, add cards, start, cancel)' },
  agents: {
    precedence: 2,
    description:
      'Customer-service agents: read tokens, operations, network tokens (never their PAN), jobs and subscriptions; request card/token LCM operations (no DELETE)',
  },
};

/** Short-lived sessions: a stolen token is worth little; the refresh token lasts about one shift. */
const ACCESS_TOKEN_VALIDITY = Duration.minutes(15);
const REFRESH_TOKEN_VALIDITY = Duration.hours(8);

/**
 * `/`, `/console` and `/console/index.html` redirect to `/console/` (the one OAuth callback URL: the UI sends its own
 * path as redirect_uri); a path ending in `/` serves its `index.html` (the S3 REST origin behind OAC has no index
 * documents). Everything else goes to the bucket as is.
 */
const VIEWER_REQUEST_CODE = `function handler(event) {
  var uri = event.request.uri;
  if (uri === '/' || uri === '/${CONSOLE_PREFIX}' || uri === '/${CONSOLE_PREFIX}/index.html') {
    return { statusCode: 301, statusDescription: 'Moved Permanently', headers: { location: { value: '/${CONSOLE_PREFIX}/' }, 'cache-control': { value: 'max-age=3600' } } };
  }
  if (uri.endsWith('/')) event.request.uri = uri + 'index.html';
  return event.request;
}`;

export interface ConsoleProps {
  /** Directory with the built console (index.html and its assets); deployed under `console/`. */
  assetsDir: string;
  /** Prefix of the Cognito hosted-UI domain: `<prefix>.auth.<region>.amazoncognito.com`. */
  cognitoDomainPrefix: string;
  /** The back-office HTTP API and its stage: the console roles' `execute-api:Invoke` resources are built from them. */
  backofficeApi: HttpApi;
  backofficeStage: HttpStage;
  /** Base URL the console calls the back-office API at (written to config.json). */
  apiUrl: string;
  /** Lambdas that refuse what agents may not do by role name: they get `CONSOLE_AGENT_ROLE_NAME`. */
  agentRoleCheckedBy: readonly LambdaFunction[];
  /** Expiry of the access logs (S3 server access logs and CloudFront logs). */
  logRetentionDays: number;
}

/**
 * The operations console's AWS side: a private S3 bucket served by CloudFront (origin access control, HTTPS only,
 * strict security headers), a Cognito user pool (no self sign-up, TOTP MFA required, threat protection) with a
 * hosted-UI domain and a public PKCE client, and an identity pool that turns a signed-in agent or supervisor into
 * that group's IAM role, which may invoke only the back-office routes the group needs.
 *
 * Layout: the bucket holds `console/index.html`, `console/config.json` and the UI's assets under `console/`; the
 * distribution redirects `/` to `/console/` and serves `/console/` as `console/index.html`.
 */
export class Console extends Construct {
  readonly bucket: Bucket;
  readonly logsBucket: Bucket;
  readonly distribution: Distribution;
  readonly responseHeaders: ResponseHeadersPolicy;
  readonly userPool: UserPool;
  readonly domain: UserPoolDomain;
  readonly client: UserPoolClient;
  readonly identityPool: IdentityPool;
  readonly roles: Record<ConsoleGroup, Role>;
  readonly groups: Record<ConsoleGroup, UserPoolGroup>;
  /** The agents role's name, `<stack name>-console-agents-<region>`: what CONSOLE_AGENT_ROLE_NAME carries. */
  readonly agentsRoleName: string;
  /** `https://<distribution domain>`: the browser origin the back-office API must allow (CORS). */
  readonly origin: string;
  /** `https://<distribution domain>/console/`: the console's URL, also the OAuth callback and logout URL. */
  readonly url: string;
  /** The hosted-UI domain host, without scheme. */
  readonly cognitoDomain: string;
  /** What config.json holds (tokens resolved at deploy time). */
  readonly runtimeConfig: Record<'mode' | 'region' | 'apiUrl' | 'userPoolId' | 'userPoolClientId' | 'cognitoDomain' | 'identityPoolId', string>;

  constructor(scope: Construct, id: string, props: ConsoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.cognitoDomain = `${props.cognitoDomainPrefix}.auth.${Aws.REGION}.amazoncognito.com`;

    // ---- Hosting ------------------------------------------------------------------------------------------------
    this.logsBucket = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      // CloudFront standard logging writes with an ACL grant, which needs ACLs enabled (bucket owner preferred).
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      versioned: true,
      lifecycleRules: [{ expiration: Duration.days(props.logRetentionDays), noncurrentVersionExpiration: Duration.days(1) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.logsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This is the access-log bucket of the console bucket and distribution: logging it into itself would loop, and into ' +
        'another bucket would only move the question. Public access is blocked, TLS enforced, versioned, with expiry.',
    });

    this.bucket = new Bucket(this, 'Assets', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.logsBucket,
      serverAccessLogsPrefix: 's3/',
      // Old versions of redeployed files are of no use after a week (rollback is a redeploy).
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(7) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // API Gateway hosts of the region, not the back-office API's own: its CORS names this distribution's origin, so
    // naming the API here would make each depend on the other (CloudFormation cycle API → distribution → policy → API).
    const apiOrigin = `https://*.execute-api.${Aws.REGION}.amazonaws.com`;
    const csp = [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      `connect-src 'self' ${apiOrigin} https://cognito-idp.${Aws.REGION}.amazonaws.com https://cognito-identity.${Aws.REGION}.amazonaws.com https://${this.cognitoDomain}`,
      "base-uri 'none'",
      `form-action 'self' https://${this.cognitoDomain}`,
      "frame-ancestors 'none'",
    ].join('; ');
    this.responseHeaders = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'token-lifecycle console: CSP, HSTS, nosniff, frame DENY, no referrer',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: csp, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
    });

    const viewerRequest = new CloudFrontFunction(this, 'ConsolePaths', {
      comment: 'token-lifecycle console: / to /console/, directory paths to index.html',
      runtime: FunctionRuntime.JS_2_0,
      code: FunctionCode.fromInline(VIEWER_REQUEST_CODE),
    });
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'token-lifecycle operations console',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.responseHeaders,
        compress: true,
        functionAssociations: [{ function: viewerRequest, eventType: FunctionEventType.VIEWER_REQUEST }],
      },
      httpVersion: HttpVersion.HTTP2_AND_3,
      // No minimumProtocolVersion: it applies only with a custom certificate (CloudFront's *.cloudfront.net one is fixed).
      enableLogging: true,
      logBucket: this.logsBucket,
      logFilePrefix: 'cloudfront/',
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR4',
      reason:
        "The console is served on its *.cloudfront.net name, whose default certificate keeps CloudFront's TLSv1 viewer " +
        'policy: the minimum protocol version is configurable only with a custom domain and ACM certificate, which this ' +
        'stack does not manage yet (add TLSv1.2_2021 with one). Modern browsers negotiate TLS 1.2 or 1.3 anyway.',
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR1',
      reason:
        'No geo restriction: agents and operators work from wherever the issuer operates, and every API call they make ' +
        'is IAM-authorised with credentials only the MFA-protected sign-in gives. The distribution serves static files only.',
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR2',
      reason:
        'No WAF web ACL: the distribution serves only static, public-by-nature files (the UI bundle and its config.json, ' +
        "which holds ids, no secret). Sign-in is Cognito's hosted UI (threat protection on) and data is behind the IAM-authorised, " +
        'throttled back-office API; a CLOUDFRONT-scope web ACL (us-east-1) can be attached later if needed.',
    });

    this.origin = `https://${this.distribution.distributionDomainName}`;
    this.url = `${this.origin}/${CONSOLE_PREFIX}/`;

    // ---- Sign-in ------------------------------------------------------------------------------------------------
    this.userPool = new UserPool(this, 'UserPool', {
      // Operators create users (admin-create-user); nobody signs themselves up.
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
        passwordHistorySize: 12,
      },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      // Plus: threat protection (compromised credentials, adaptive authentication) in full-function mode.
      featurePlan: FeaturePlan.PLUS,
      standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION,
      userInvitation: {
        emailSubject: 'Your token-lifecycle console account',
        emailBody:
          `Your console user name is {username} and your temporary password is {####}. Sign in at ${this.url} ` +
          '(then choose a new password and set up an authenticator app (TOTP)).',
      },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.domain = this.userPool.addDomain('HostedUi', { cognitoDomain: { domainPrefix: props.cognitoDomainPrefix } });
    this.client = this.userPool.addClient('ConsoleClient', {
      userPoolClientName: 'console',
      // A browser app cannot keep a secret: public client. Cognito requires PKCE of public clients on the code grant.
      generateSecret: false,
      authFlows: {},
      oAuth: {
        flows: { authorizationCodeGrant: true, implicitCodeGrant: false, clientCredentials: false },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE],
        callbackUrls: [this.url],
        logoutUrls: [this.url],
      },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: ACCESS_TOKEN_VALIDITY,
      idTokenValidity: ACCESS_TOKEN_VALIDITY,
      refreshTokenValidity: REFRESH_TOKEN_VALIDITY,
    });

    // The identity pool hands out each group's role from the ID token (cognito:preferred_role); a user in no group,
    // or whose token names no role, gets no credentials. The default authenticated role is never used and has no policy.
    this.identityPool = new IdentityPool(this, 'IdentityPool', {
      allowUnauthenticatedIdentities: false,
      authenticationProviders: { userPools: [new UserPoolAuthenticationProvider({ userPool: this.userPool, userPoolClient: this.client })] },
      roleMappings: [
        {
          providerUrl: IdentityPoolProviderUrl.userPool(this.userPool, this.client),
          // The key of the RoleMappings map; the provider name itself is a token here, which CDK cannot use as a key.
          mappingKey: 'console',
          useToken: true,
          resolveAmbiguousRoles: false,
        },
      ],
    });

    // ---- Roles --------------------------------------------------------------------------------------------------
    const stackName = stack.stackName;
    if (!Token.isUnresolved(stackName) && stackName.length > 30) {
      throw new Error(
        `Console: the stack name ${stackName} is longer than 30 characters; the agents role name (<stack>-console-agents-<region>) would exceed IAM's 64`,
      );
    }
    const assumedBy = new FederatedPrincipal(
      'cognito-identity.amazonaws.com',
      {
        StringEquals: { 'cognito-identity.amazonaws.com:aud': this.identityPool.identityPoolId },
        'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'authenticated' },
      },
      'sts:AssumeRoleWithWebIdentity',
    );
    // A plain string (stack name and region), not the role's Ref: the Lambdas must not depend on the role.
    this.agentsRoleName = `${stackName}-console-agents-${Aws.REGION}`;
    const routeArn = (method: string, path: string) =>
      stack.formatArn({
        service: 'execute-api',
        resource: props.backofficeApi.apiId,
        resourceName: `${props.backofficeStage.stageName}/${method}${path}`,
      });
    const roles = {} as Record<ConsoleGroup, Role>;
    const groups = {} as Record<ConsoleGroup, UserPoolGroup>;
    for (const group of ['agents', 'supervisors'] as const) {
      const role = new Role(this, `${group === 'agents' ? 'Agents' : 'Supervisors'}Role`, {
        assumedBy,
        description: `token-lifecycle console ${group}: ${GROUPS[group].description}`,
        // Explicit for agents: the Lambdas that refuse agents a DELETE read the name from their env, and a generated
        // name would make them depend on the role, which depends on the API, which depends on them (a cycle).
        roleName: group === 'agents' ? this.agentsRoleName : undefined,
        maxSessionDuration: Duration.hours(1),
      });
      role.addToPolicy(
        new PolicyStatement({
          sid: 'BackofficeRoutes',
          actions: ['execute-api:Invoke'],
          resources: CONSOLE_ROUTES[group].map(([method, path]) => routeArn(method, path)),
        }),
      );
      role.addToPolicy(
        new PolicyStatement({
          sid: 'NeverTheTokenPan',
          effect: Effect.DENY,
          actions: ['execute-api:Invoke'],
          resources: DENIED_ROUTES.map(([method, path]) => routeArn(method, path)),
        }),
      );
      // One acknowledgment per wildcard route (cdk-nag names each finding by its resource).
      const apiLogicalId = stack.resolve((props.backofficeApi.node.defaultChild as CfnResource).logicalId) as string;
      for (const [method, path] of CONSOLE_ROUTES[group].filter(([, p]) => p.includes('*'))) {
        Validations.of(role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiLogicalId}>/${props.backofficeStage.stageName}/${method}${path}]`,
          reason:
            `execute-api:Invoke on ${method} ${path} of this API and stage only: the \`*\` stands for the path parameter of a route ` +
            `the ${group} need (CONSOLE_ROUTES); the token-PAN route is denied explicitly.`,
        });
      }
      roles[group] = role;
      groups[group] = new UserPoolGroup(this, `${group === 'agents' ? 'Agents' : 'Supervisors'}Group`, {
        userPool: this.userPool,
        groupName: group,
        description: GROUPS[group].description,
        precedence: GROUPS[group].precedence,
        role,
      });
    }
    this.roles = roles;
    this.groups = groups;
    for (const fn of props.agentRoleCheckedBy) fn.addEnvironment(CONSOLE_AGENT_ROLE_ENV, this.agentsRoleName);

    // ---- Assets -------------------------------------------------------------------------------------------------
    this.runtimeConfig = {
      mode: 'aws',
      region: Aws.REGION,
      apiUrl: props.apiUrl,
      userPoolId: this.userPool.userPoolId,
      userPoolClientId: this.client.userPoolClientId,
      cognitoDomain: this.cognitoDomain,
      identityPoolId: this.identityPool.identityPoolId,
    };
    const deployment = new BucketDeployment(this, 'Deploy', {
      sources: [Source.asset(props.assetsDir), Source.jsonData('config.json', this.runtimeConfig)],
      destinationBucket: this.bucket,
      destinationKeyPrefix: `${CONSOLE_PREFIX}/`,
      // Revalidate every file (ETag): a redeploy is visible at once; the invalidation below clears the edge caches.
      cacheControl: [CacheControl.noCache()],
      distribution: this.distribution,
      distributionPaths: [`/${CONSOLE_PREFIX}/*`],
      memoryLimit: 256,
    });
    this.acknowledgeDeploymentHandler(deployment);
  }

  /**
   * CDK's BucketDeployment runs a singleton custom-resource Lambda (stack level) at deploy time only; its runtime,
   * managed policy and grants are CDK's, not configurable per statement.
   */
  private acknowledgeDeploymentHandler(deployment: BucketDeployment): void {
    const stack = Stack.of(this);
    const bucketLogicalId = stack.resolve((this.bucket.node.defaultChild as CfnResource).logicalId) as string;
    const handlerRole = deployment.handlerRole;
    Validations.of(handlerRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "CDK's BucketDeployment Lambda (deploy time only) writes its logs with AWSLambdaBasicExecutionRole; CDK does not let it be replaced.",
    });
    const grants: [string, string][] = [
      ['Action::s3:GetObject*', 'reads the staged console asset (the CDK asset bucket) and this console bucket'],
      ['Action::s3:GetBucket*', 'reads the two buckets it copies between'],
      ['Action::s3:List*', 'lists the two buckets it copies between (prune compares them)'],
      ['Action::s3:DeleteObject*', 'prunes files of an older console build from this console bucket'],
      ['Action::s3:Abort*', 'aborts its own multipart uploads into this console bucket'],
      [
        'Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*',
        "reads the staged asset zip from CDK's bootstrap asset bucket",
      ],
      [`Resource::<${bucketLogicalId}.Arn>/*`, 'writes the console files into this console bucket'],
      ['Resource::*', 'cloudfront:CreateInvalidation/GetInvalidation of the console distribution after a deploy (CDK grants them on *)'],
    ];
    for (const [finding, what] of grants) {
      Validations.of(handlerRole).acknowledge({
        id: `AwsSolutions-IAM5[${finding}]`,
        reason: `CDK's BucketDeployment grant, deploy time only: it ${what}; scoped to those buckets and CDK's own actions.`,
      });
    }
    const handler = stack.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (handler) {
      Validations.of(handler).acknowledge({
        id: 'AwsSolutions-L1',
        reason: "The BucketDeployment Lambda's runtime is chosen by aws-cdk-lib (a deploy-time custom resource, not service code); it moves with CDK upgrades.",
      });
    }
  }
}
