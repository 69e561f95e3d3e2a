import * as z from 'zod/mini';
import { ROLE_NAME } from '../domain/console-access';

/**
 * Every environment variable of DESIGN §5 (plus the resource wiring CDK injects), in one zod schema.
 *
 * Tuning values carry the documented defaults. Identity, endpoints and secrets have no default here: in AWS a
 * missing value must stop the function, not silently fall back to a local placeholder. `npm start` supplies the
 * local defaults (local/dev.ts) before it parses.
 *
 * zod/mini, as the queue messages (domain/messages.ts): every Lambda loads this schema, and a consumer on the hot
 * path then needs no classic zod at all (about 70 KB less minified, bench section 6). Same checks, same messages.
 */
const port = z.coerce.number().check(z.int(), z.minimum(0), z.maximum(65535));
const positiveInt = z.coerce.number().check(z.int(), z.positive());
const url = z.url({ protocol: /^https?$/ });

/** updateCardState calls per second D1 allows us when nothing says otherwise. */
const DEFAULT_D1_MAX_TPS = 50;

export const envSchema = z.object({
  PORT: z._default(port, 3000),
  D1_SIM_PORT: z._default(port, 3100),
  LOCAL_DDB_PORT: z._default(port, 8000),
  LOCAL_SQS_PORT: z._default(port, 9324),
  ISSUER_ID: z.string().check(z.length(10, 'must be exactly 10 characters')),
  TR_API_KEY: z.string().check(z.minLength(1), z.maxLength(512)),
  D1_ISSUER_BASE_URL: url,
  D1_COF_BASE_URL: url,
  D1_COF_API_KEY: z.string().check(z.minLength(1), z.maxLength(512)),
  TR_JWE_PRIVATE_KEY: z.string().check(z.minLength(1)),
  /**
   * Raw AES-256 key sealing stored token PANs where no KMS key is configured (locally): 32 bytes as base64 or as
   * 64 hex digits. Required when DATA_KEY_KMS_KEY_ARN is unset; never set in AWS, where the KMS key does it.
   */
  DATA_KEY: z.optional(
    z
      .string()
      .check(
        z.refine(
          (v) => /^[0-9a-fA-F]{64}$/.test(v) || (z.base64().safeParse(v).success && Buffer.from(v, 'base64').length === 32),
          'must be 32 bytes as base64 or 64 hex digits',
        ),
      ),
  ),
  D1_TIMEOUT_MS: z._default(positiveInt, 5000),
  D1_RETRY_BASE_DELAY_MS: z._default(positiveInt, 1000),
  D1_MAX_ATTEMPTS: z._default(positiveInt.check(z.maximum(50)), 8),
  /** Most updateCardState calls in any sliding second, across every consumer and instance; the bulk job runner starts cards at this pace (DESIGN §9). */
  D1_MAX_TPS: z._default(positiveInt, DEFAULT_D1_MAX_TPS),
  RECONCILE_AFTER_MS: z._default(positiveInt, 900000),
  LOG_LEVEL: z._default(z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT']), 'INFO'),
  TABLE_NAME: z.string().check(z.minLength(3)),
  ISSUER_CALLBACKS_QUEUE_URL: url,
  TOKEN_UPDATES_QUEUE_URL: url,
  D1_REQUESTS_QUEUE_URL: url,
  /** The bulk lane toward D1: first attempts (and retries) of the bulk jobs' operations. */
  D1_BULK_REQUESTS_QUEUE_URL: url,
  LCM_JOBS_QUEUE_URL: url,
  WEBHOOK_DELIVERIES_QUEUE_URL: url,
  /**
   * The webhook-deliveries DLQ: the delivery consumer parks a delivery there itself once its 24 h retry budget is
   * spent (failed attempts are new messages, never SQS redeliveries, so the redrive policy alone would not see them).
   */
  WEBHOOK_DELIVERIES_DLQ_URL: url,
  /** How long `GET /v1/events` keeps an event (DESIGN §8); DynamoDB TTL removes it afterwards. */
  EVENT_RETENTION_DAYS: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(3650)), 30),
  /** In AWS: the stack's EventBridge bus every event is also put on. Unset (npm start) = no bus. */
  EVENT_BUS_NAME: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
  /**
   * Webhook URLs may be http:// to loopback (npm start's event sink). Never in AWS, where a URL resolving to a
   * loopback, private, link-local or metadata address is refused.
   */
  WEBHOOK_ALLOW_LOOPBACK: z.pipe(
    z._default(z.enum(['true', 'false']), 'false'),
    z.transform((v) => v === 'true'),
  ),
  /** In AWS: the KMS key that seals stored token PANs (the stack always creates it). Unset = raw AES with DATA_KEY. */
  DATA_KEY_KMS_KEY_ARN: z.optional(z.string().check(z.startsWith('arn:'))),
  /** Our mTLS client identity toward D1 (PEM, `\\n` escapes allowed); both or neither. Secrets in AWS. */
  D1_CLIENT_CERT: z.optional(z.string().check(z.minLength(1))),
  D1_CLIENT_KEY: z.optional(z.string().check(z.minLength(1))),
  /** Keep token history and dedupe records this long; unset = forever (DESIGN §2 rule 15: off by default). */
  HISTORY_RETENTION_DAYS: z.optional(z.coerce.number().check(z.int(), z.minimum(30))),
  /**
   * The IAM role of the operations console's `agents` group (a role name, not an ARN). A caller whose ARN names it
   * (`arn:aws:sts::<account>:assumed-role/<name>/<session>`, or the role ARN) may not DELETE: `POST /v1/lcm-operations`
   * and `POST /v1/lcm-jobs` with action DELETE answer 403. Unset = nobody is told apart (every caller IAM lets in).
   */
  CONSOLE_AGENT_ROLE_NAME: z.optional(z.string().check(z.regex(ROLE_NAME, 'must be an IAM role name: 1-64 of A-Z a-z 0-9 + = , . @ _ -'))),
  /** Which API a `$default` handler serves; unset under the local gateway, which serves both. */
  API_NAME: z.optional(z.enum(['backoffice', 'webhooks'])),
});

export type Env = z.infer<typeof envSchema>;
export type EnvKey = keyof Env;

/** Variables whose values are secrets: in AWS they arrive as `<NAME>_SECRET_ARN` (Secrets Manager), never the value. */
export const SECRET_ENV_KEYS = ['TR_API_KEY', 'D1_COF_API_KEY', 'TR_JWE_PRIVATE_KEY'] as const satisfies readonly EnvKey[];
/** Secret-valued variables that may be absent (mTLS toward D1 is set up per environment); wired only when given. */
export const OPTIONAL_SECRET_ENV_KEYS = ['D1_CLIENT_CERT', 'D1_CLIENT_KEY'] as const satisfies readonly EnvKey[];
export type SecretEnvKey = (typeof SECRET_ENV_KEYS)[number];
export type OptionalSecretEnvKey = (typeof OPTIONAL_SECRET_ENV_KEYS)[number];
const SECRET_KEYS: ReadonlySet<string> = new Set([...SECRET_ENV_KEYS, ...OPTIONAL_SECRET_ENV_KEYS]);
export const isSecretEnvKey = (key: string): key is SecretEnvKey | OptionalSecretEnvKey => SECRET_KEYS.has(key);

export class ConfigError extends Error {
  constructor(
    readonly variables: string[],
    detail: string,
  ) {
    super(`invalid configuration: ${detail}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the variables a process needs (a Lambda only gets the ones its construct passes) and fails fast
 * with the name of every bad variable — never its value, which may be a secret.
 */
export function loadEnv<K extends EnvKey>(keys: readonly K[], source: NodeJS.ProcessEnv = process.env): Pick<Env, K> {
  const mask = Object.fromEntries(keys.map((k) => [k, true])) as { [P in K]: true };
  const result = z.pick(envSchema, mask as never).safeParse(source);
  if (result.success) return result.data as unknown as Pick<Env, K>;
  const problems = result.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`);
  throw new ConfigError(
    result.error.issues.map((i) => String(i.path[0])),
    problems.join('; '),
  );
}
