import type { OptionalSecretEnvKey, SecretEnvKey } from './env';

type AnySecretKey = SecretEnvKey | OptionalSecretEnvKey;

/** Fetches a secret's value by ARN: `secretsManagerFetcher` (config/secrets-manager.ts) in the handlers that have secrets. */
export type SecretFetcher = (secretId: string) => Promise<string>;

/**
 * In AWS a secret-valued variable arrives as `<NAME>_SECRET_ARN` (never its value in the template): fetch each
 * once, at cold start, into `process.env` so the env schema sees it like any other variable. A value already in the
 * environment (local runs, tests) wins and nothing is fetched.
 */
export async function resolveSecretEnv(keys: readonly AnySecretKey[], env: NodeJS.ProcessEnv, fetch: SecretFetcher): Promise<void> {
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
 * later call (the fetch is not repeated). A failed fetch or build is retried on the next call. Without secret keys
 * nothing is fetched and `fetch` may be left out, so a Lambda without secrets does not bundle the Secrets Manager
 * client (bench section 6).
 */
export function afterSecrets<D>(keys: readonly AnySecretKey[], build: () => D, fetch?: SecretFetcher): () => Promise<D> {
  if (keys.length > 0 && !fetch) throw new Error(`secret env ${keys.join(', ')} declared, but no secret fetcher given`);
  let ready: Promise<D> | undefined;
  return () => {
    if (!ready) {
      const building = (fetch ? resolveSecretEnv(keys, process.env, fetch) : Promise.resolve()).then(build);
      building.catch(() => {
        if (ready === building) ready = undefined;
      });
      ready = building;
    }
    return ready;
  };
}
