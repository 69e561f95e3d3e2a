import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { OptionalSecretEnvKey, SecretEnvKey } from './env';

type AnySecretKey = SecretEnvKey | OptionalSecretEnvKey;

export type SecretFetcher = (secretId: string) => Promise<string>;

/** GetSecretValue; the client is created on first use so functions without secrets never pay for it. */
export function secretsManagerFetcher(): SecretFetcher {
  let client: SecretsManagerClient | undefined;
  return async (secretId) => {
    client ??= new SecretsManagerClient({});
    const result = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (result.SecretString === undefined) throw new Error(`secret ${secretId} has no string value`);
    return result.SecretString;
  };
}

/**
 * In AWS a secret-valued variable arrives as `<NAME>_SECRET_ARN` (never its value in the template): fetch each
 * once, at cold start, into `process.env` so the env schema sees it like any other variable. A value already in the
 * environment (local runs, tests) wins and nothing is fetched.
 */
export async function resolveSecretEnv(
  keys: readonly AnySecretKey[],
  env: NodeJS.ProcessEnv = process.env,
  fetch: SecretFetcher = secretsManagerFetcher(),
): Promise<void> {
  await Promise.all(
    keys.map(async (key) => {
      const arn = env[`${key}_SECRET_ARN`];
      if (env[key] !== undefined || !arn) return;
      env[key] = await fetch(arn);
    }),
  );
}

/**
 * A composition root that needs secrets: built on first use, after the secrets were fetched, and reused by every
 * later call (the fetch is not repeated). A failed fetch or build is retried on the next call.
 */
export function afterSecrets<D>(keys: readonly AnySecretKey[], build: () => D, fetch: SecretFetcher = secretsManagerFetcher()): () => Promise<D> {
  let ready: Promise<D> | undefined;
  return () => {
    if (!ready) {
      const building = resolveSecretEnv(keys, process.env, fetch).then(build);
      building.catch(() => {
        if (ready === building) ready = undefined;
      });
      ready = building;
    }
    return ready;
  };
}
