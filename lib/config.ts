import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as z from 'zod';
import { SECRET_ENV_KEYS, type SecretEnvKey } from '../lambdas/topology';

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
  DATA_KEY: 'dataKeySecret',
};

const SECRET_ARN = /^arn:aws[\w-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+-[A-Za-z0-9]{6}$/;
const SECRET_NAME = /^[\w/+=.@-]{1,512}$/;

/**
 * An existing secret: a complete ARN (with the 6-character suffix Secrets Manager appends), or its name.
 * A partial ARN is refused: IAM would need a wildcard suffix for it, and it is ambiguous anyway.
 */
const secretRef = z.union([
  z.string().regex(SECRET_ARN).transform((arn) => ({ kind: 'arn' as const, value: arn })),
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

export const stackConfigSchema = z.object({
  issuerId: z.string().length(10, 'must be exactly 10 characters').default('ISSUER0001'),
  d1IssuerBaseUrl: httpsUrl.default('https://d1.example.invalid/issuer'),
  d1CofBaseUrl: httpsUrl.default('https://d1.example.invalid/cof'),
  logLevel: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT']).default('INFO'),
  // ≤ 20 s so an HTTP Lambda that calls D1 inline still answers inside API Gateway's 30 s integration limit.
  d1TimeoutMs: int(100, 20_000).default(5000),
  d1RetryBaseDelayMs: int(1, 900_000).default(1000),
  d1MaxAttempts: int(1, 50).default(8),
  reconcileAfterMs: int(1000, 7 * 24 * 3600 * 1000).default(900_000),
  /** Keep token history and dedupe records this many days (DynamoDB TTL); unset = forever (DESIGN §2 rule 15). */
  historyRetentionDays: int(30, 36_500).optional(),
  /** SNS topic every alarm notifies (ALARM and OK); alarms still exist without it. */
  alarmTopicArn: z.string().regex(/^arn:aws[\w-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/).optional(),
  /** Stage-wide throttling of each HTTP API (requests/s, burst). */
  apiRateLimit: int(1, 10_000).default(50),
  apiBurstLimit: int(1, 5_000).default(100),
  logRetentionDays: retentionDays.default(RetentionDays.THREE_MONTHS),
  /** Existing secrets; an absent one is created by the stack with a generated value. */
  secrets: z.object(
    Object.fromEntries(SECRET_ENV_KEYS.map((key) => [key, secretRef.optional()])) as Record<SecretEnvKey, z.ZodOptional<typeof secretRef>>,
  ),
});

export type StackConfig = z.output<typeof stackConfigSchema>;

/** Reads the configuration from CDK context (`cdk.json` or `-c key=value`); throws naming every bad key. */
export function loadStackConfig(tryGetContext: (key: string) => unknown): StackConfig {
  const keys = Object.keys(stackConfigSchema.shape).filter((k) => k !== 'secrets');
  const raw: Record<string, unknown> = Object.fromEntries(keys.map((k) => [k, tryGetContext(k)]).filter(([, v]) => v !== undefined));
  raw.secrets = Object.fromEntries(
    SECRET_ENV_KEYS.map((key) => [key, tryGetContext(SECRET_CONTEXT_KEYS[key])]).filter(([, v]) => v !== undefined),
  );
  const result = stackConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  const contextKey = (path: PropertyKey[]): string =>
    path[0] === 'secrets' ? (SECRET_CONTEXT_KEYS[path[1] as SecretEnvKey] ?? 'secrets') : String(path[0]);
  const problems = result.error.issues.map((issue) => `${contextKey(issue.path)}: ${issue.message}`);
  throw new Error(`invalid CDK context: ${problems.join('; ')}`);
}
