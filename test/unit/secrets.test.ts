import { resolveSecretEnv, withSecrets } from '../../lambdas/config/secrets';

describe('resolveSecretEnv', () => {
  it('fetches <NAME>_SECRET_ARN into <NAME>, once per key, and leaves values already set alone', async () => {
    const env: NodeJS.ProcessEnv = { TR_API_KEY_SECRET_ARN: 'arn:tr', TR_JWE_PRIVATE_KEY: 'already-here', TR_JWE_PRIVATE_KEY_SECRET_ARN: 'arn:jwe' };
    const fetched: string[] = [];
    await resolveSecretEnv(['TR_API_KEY', 'TR_JWE_PRIVATE_KEY', 'D1_COF_API_KEY'], env, async (id) => {
      fetched.push(id);
      return `value-of-${id}`;
    });
    expect(env.TR_API_KEY).toBe('value-of-arn:tr');
    expect(env.TR_JWE_PRIVATE_KEY).toBe('already-here');
    expect(env.D1_COF_API_KEY).toBeUndefined();
    expect(fetched).toEqual(['arn:tr']);
  });
});

describe('withSecrets', () => {
  const KEY = 'D1_COF_API_KEY';
  afterEach(() => {
    delete process.env[KEY];
    delete process.env[`${KEY}_SECRET_ARN`];
  });

  it('builds the handler after the secrets arrived, once, and reuses it', async () => {
    process.env[`${KEY}_SECRET_ARN`] = 'arn:cof';
    let fetches = 0;
    let builds = 0;
    const handler = withSecrets(
      [KEY],
      () => {
        builds++;
        const seen = process.env[KEY];
        return async (x: number) => `${seen}:${x}`;
      },
      async () => {
        fetches++;
        return 'secret-cof';
      },
    );
    expect(await handler(1)).toBe('secret-cof:1');
    expect(await handler(2)).toBe('secret-cof:2');
    expect({ fetches, builds }).toEqual({ fetches: 1, builds: 1 });
  });

  it('retries the fetch on the next invocation after a failure', async () => {
    process.env[`${KEY}_SECRET_ARN`] = 'arn:cof';
    let calls = 0;
    const handler = withSecrets([KEY], () => async () => process.env[KEY], async () => {
      calls++;
      if (calls === 1) throw new Error('throttled');
      return 'second-time';
    });
    await expect(handler()).rejects.toThrow('throttled');
    await expect(handler()).resolves.toBe('second-time');
  });

  it('does not rebuild when the built handler itself throws', async () => {
    let builds = 0;
    const handler = withSecrets([], () => {
      builds++;
      return async () => {
        throw new Error('business failure');
      };
    });
    await expect(handler()).rejects.toThrow('business failure');
    await expect(handler()).rejects.toThrow('business failure');
    expect(builds).toBe(1);
  });
});
