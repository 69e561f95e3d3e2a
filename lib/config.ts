import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as z from 'zod';
import { OPTIONAL_SECRET_ENV_KEYS, SECRET_ENV_KEYS, type OptionalSecretEnvKey, type SecretEnvKey } from '../lambdas/topology';

/**
 * Deployment-time configuration of the stack (CDK context), validated with zod at synth so a bad value stops
 * `cdk synth` with its name instead of producing a template that fails at run time.
 *
 * Defaults are safe placeholders for a local synth: nothing here reaches a real D1 (`.invalid` is a reserved
 * TLD that never resolves), and absent secrets are created with generated values (never a value in the template).
 */

/** Context key per secret env var, e.g. `-c trApiKeySecret=arn:aws:secretsmanager:…` or a secret name. */
export const SECRET_CONTEXT_KEYS: Record<SecretEnvKey, string> = {
  TR_API_KEY: 'trApiKeySecret',
  D1_COF_API_KEY: 'd1CofApiKeySecret',
  TR_JWE_PRIVATE_KEY: 'trJwePrivateKeySecret',
};

/**
 * Context key per optional secret env var: our mTLS client certificate and key toward D1 (PEM), both or neither.
 * Never generated: a made-up certificate is worse than none, so absent means no env var and no grant.
 */
export const OPTIONAL_SECRET_CONTEXT_KEYS: Record<OptionalSecretEnvKey, string> = {
  D1_CLIENT_CERT: 'd1ClientCertSecret',
  D1_CLIENT_KEY: 'd1ClientKeySecret',
};

/** The webhook API's mutual-TLS custom domain: context keys, all-or-none except the optional ones. */
export const WEBHOOK_DOMAIN_CONTEXT_KEYS = {
  required: ['webhookDomainName', 'webhookCertificateArn', 'webhookTruststoreUri'],
  optional: ['webhookTruststoreVersion', 'webhookOwnershipCertificateArn'],
} as const;

const SECRET_ARN = /^arn:aws[\w-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+-[A-Za-z0-9]{6}$/;
const SECRET_NAME = /^[\w/+=.@-]{1,512}$/;

/**
 * An existing secret: a complete ARN (with the 6-character suffix Secrets Manager appends), or its name.
 * A partial ARN is refused: IAM would need a wildcard suffix for it, and it is ambiguous anyway.
 */
const secretRef = z.union([
  z
    .string()
    .regex(SECRET_ARN)
    .transform((arn) => ({ kind: 'arn' as const, value: arn })),
  z
    .string()
    .regex(SECRET_NAME)
    .refine((v) => !v.startsWith('arn:'), 'a Secrets Manager ARN must be complete (…:secret:<name>-<6 chars>)')
    .transform((name) => ({ kind: 'name' as const, value: name })),
]);
export type SecretRef = z.infer<typeof secretRef>;

/** `-c key=value` arrives as a string; JSON context (cdk.json) may carry numbers. */
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const httpsUrl = z.url({ protocol: /^https$/ });
const retentionDays = z.coerce
  .number()
  .refine((d) => Object.values(RetentionDays).includes(d as RetentionDays), 'must be a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, …)')
  .transform((d) => d as RetentionDays);

const ACM_CERTIFICATE_ARN = /^arn:aws[\w-]*:acm:([a-z0-9-]+):\d{12}:certificate\/[A-Za-z0-9-]{1,128}$/;
const acmCertificateArn = z.string().regex(ACM_CERTIFICATE_ARN, 'must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)');
/** The region an ACM certificate lives in (a regional API Gateway domain needs one in its own region). */
export const certificateRegion = (arn: string): string => ACM_CERTIFICATE_ARN.exec(arn)![1]!;

/** A DNS name API Gateway accepts for a custom domain: lowercase labels, no wildcard, no trailing dot. */
const domainName = z
  .string()
  .transform((d) => d.toLowerCase())
  .pipe(
    z
      .string()
      .max(253)
      .regex(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'must be a DNS name such as hooks.example.com'),
  );

/** `s3://<bucket>/<key>` of the truststore (PEM bundle of the CA certificates a client certificate must chain to). */
const truststoreUri = z
  .string()
  .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/[^\s]+$/, 'must be s3://<bucket>/<key> of the truststore PEM')
  .transform((uri) => {
    const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri)!;
    return { bucket: bucket!, key: key! };
  });

export interface WebhookDomainConfig {
  domainName: string;
  certificateArn: string;
  /** ACM public certificate proving domain ownership: needed only when `certificateArn` is imported or private-CA. */
  ownershipCertificateArn?: string;
  truststore: { bucket: string; key: string; version?: string };
}

const stackConfigShape = z.object({
  issuerId: z.string().length(10, 'must be exactly 10 characters').default('ISSUER0001'),
  d1IssuerBaseUrl: httpsUrl.default('https://d1.example.invalid/issuer'),
  d1CofBaseUrl: httpsUrl.default('https://d1.example.invalid/cof'),
  logLevel: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT']).default('INFO'),
  // ≤ 20 s so an HTTP Lambda that calls D1 inline still answers inside API Gateway's 30 s integration limit.
  d1TimeoutMs: int(100, 20_000).default(5000),
  d1RetryBaseDelayMs: int(1, 900_000).default(1000),
  d1MaxAttempts: int(1, 50).default(8),
  /** Most updateCardState calls in any sliding second across every consumer (DESIGN §9); also the dashboard's line. */
  d1MaxTps: int(1, 500).default(50),
  reconcileAfterMs: int(1000, 7 * 24 * 3600 * 1000).default(900_000),
  /** Keep token history and dedupe records this many days (DynamoDB TTL); unset = forever (DESIGN §2 rule 15). */
  historyRetentionDays: int(30, 36_500).optional(),
  /**
   * The IAM role name of the operations console's `agents` group: its callers may not DELETE (CONSOLE_AGENT_ROLE_NAME,
   * 403 on POST /v1/lcm-operations and POST /v1/lcm-jobs with action DELETE). Unset = no caller is told apart.
   */
  consoleAgentRoleName: z
    .string()
    .regex(/^[\w+=,.@-]{1,64}$/)
    .optional(),
  /** Keep published events this many days in the event log `GET /v1/events` and replays read (DESIGN §8; DynamoDB TTL). */
  eventRetentionDays: int(1, 3650).default(30),
  /** SNS topic every alarm notifies (ALARM and OK); alarms still exist without it. */
  alarmTopicArn: z
    .string()
    .regex(/^arn:aws[\w-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/)
    .optional(),
  /** Stage-wide throttling of each HTTP API (requests/s, burst). */
  apiRateLimit: int(1, 10_000).default(50),
  apiBurstLimit: int(1, 5_000).default(100),
  logRetentionDays: retentionDays.default(RetentionDays.THREE_MONTHS),
  /** Existing secrets; an absent one is created by the stack with a generated value. */
  secrets: z.object(Object.fromEntries(SECRET_ENV_KEYS.map((key) => [key, secretRef.optional()])) as Record<SecretEnvKey, z.ZodOptional<typeof secretRef>>),
  /** Existing secrets that may be absent (never created by the stack): both or neither, checked below. */
  optionalSecrets: z.object(
    Object.fromEntries(OPTIONAL_SECRET_ENV_KEYS.map((key) => [key, secretRef.optional()])) as Record<OptionalSecretEnvKey, z.ZodOptional<typeof secretRef>>,
  ),
  /** Custom domain of the webhooks API, with mutual TLS; when set, that API's execute-api endpoint is disabled. */
  webhookDomainName: domainName.optional(),
  /** ACM certificate for webhookDomainName, in the stack's region (regional endpoint). */
  webhookCertificateArn: acmCertificateArn.optional(),
  webhookOwnershipCertificateArn: acmCertificateArn.optional(),
  webhookTruststoreUri: truststoreUri.optional(),
  /** S3 object version of the truststore (versioned bucket); unset = latest. */
  webhookTruststoreVersion: z
    .string()
    .regex(/^[\w.+/=-]{1,1024}$/)
    .optional(),
});

export const stackConfigSchema = stackConfigShape
  .superRefine((c, ctx) => {
    const given = OPTIONAL_SECRET_ENV_KEYS.filter((k) => c.optionalSecrets[k] !== undefined);
    if (given.length > 0 && given.length < OPTIONAL_SECRET_ENV_KEYS.length) {
      const names = OPTIONAL_SECRET_ENV_KEYS.map((k) => OPTIONAL_SECRET_CONTEXT_KEYS[k]);
      ctx.addIssue({
        code: 'custom',
        path: [names.join('/')],
        message: `give both ${names.join(' and ')} (the mTLS client certificate and its private key toward D1) or neither`,
      });
    }
    const domain = { webhookDomainName: c.webhookDomainName, webhookCertificateArn: c.webhookCertificateArn, webhookTruststoreUri: c.webhookTruststoreUri };
    const present = WEBHOOK_DOMAIN_CONTEXT_KEYS.required.filter((k) => domain[k] !== undefined);
    if (present.length > 0 && present.length < WEBHOOK_DOMAIN_CONTEXT_KEYS.required.length) {
      const missing = WEBHOOK_DOMAIN_CONTEXT_KEYS.required.filter((k) => domain[k] === undefined);
      ctx.addIssue({
        code: 'custom',
        path: [missing.join('/')],
        message: `required with ${present.join(', ')}: the mTLS webhook domain needs ${WEBHOOK_DOMAIN_CONTEXT_KEYS.required.join(', ')}`,
      });
    }
    if (present.length === 0) {
      for (const key of WEBHOOK_DOMAIN_CONTEXT_KEYS.optional) {
        if (c[key] !== undefined)
          ctx.addIssue({ code: 'custom', path: [key], message: `only meaningful with ${WEBHOOK_DOMAIN_CONTEXT_KEYS.required.join(', ')}` });
      }
    }
  })
  .transform(({ webhookDomainName, webhookCertificateArn, webhookOwnershipCertificateArn, webhookTruststoreUri, webhookTruststoreVersion, ...rest }) => {
    const webhookDomain: WebhookDomainConfig | undefined =
      webhookDomainName && webhookCertificateArn && webhookTruststoreUri
        ? {
            domainName: webhookDomainName,
            certificateArn: webhookCertificateArn,
            ownershipCertificateArn: webhookOwnershipCertificateArn,
            truststore: { ...webhookTruststoreUri, version: webhookTruststoreVersion },
          }
        : undefined;
    return { ...rest, webhookDomain };
  });

export type StackConfig = z.output<typeof stackConfigSchema>;

/** Reads the configuration from CDK context (`cdk.json` or `-c key=value`); throws naming every bad key. */
export function loadStackConfig(tryGetContext: (key: string) => unknown): StackConfig {
  const keys = Object.keys(stackConfigShape.shape).filter((k) => k !== 'secrets' && k !== 'optionalSecrets');
  const raw: Record<string, unknown> = Object.fromEntries(keys.map((k) => [k, tryGetContext(k)]).filter(([, v]) => v !== undefined));
  raw.secrets = Object.fromEntries(SECRET_ENV_KEYS.map((key) => [key, tryGetContext(SECRET_CONTEXT_KEYS[key])]).filter(([, v]) => v !== undefined));
  raw.optionalSecrets = Object.fromEntries(
    OPTIONAL_SECRET_ENV_KEYS.map((key) => [key, tryGetContext(OPTIONAL_SECRET_CONTEXT_KEYS[key])]).filter(([, v]) => v !== undefined),
  );
  const result = stackConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  // Messages name the context key and say what is wrong, never echo the value (it could be a pasted secret).
  const contextKey = (path: PropertyKey[]): string => {
    if (path[0] === 'secrets') return SECRET_CONTEXT_KEYS[path[1] as SecretEnvKey] ?? 'secrets';
    if (path[0] === 'optionalSecrets') return OPTIONAL_SECRET_CONTEXT_KEYS[path[1] as OptionalSecretEnvKey] ?? 'optionalSecrets';
    return String(path[0]);
  };
  const problems = result.error.issues.map((issue) => `${contextKey(issue.path)}: ${issue.message}`);
  throw new Error(`invalid CDK context: ${problems.join('; ')}`);
}
