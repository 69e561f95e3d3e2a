import { afterSecrets, resolveSecretEnv } from '../../lambdas/config/secrets';

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

describe('afterSecrets', () => {
  const KEY = 'D1_COF_API_KEY';
  afterEach(() => {
    delete process.env[KEY];
    delete process.env[`${KEY}_SECRET_ARN`];
  });

  it('builds after the secrets arrived, once, and reuses what it built', async () => {
    process.env[`${KEY}_SECRET_ARN`] = 'arn:cof';
    let fetches = 0;
    let builds = 0;
    const deps = afterSecrets(
      [KEY],
      () => {
        builds++;
        return { seen: process.env[KEY] };
      },
      async () => {
        fetches++;
        return 'secret-cof';
      },
    );
    expect(await deps()).toEqual({ seen: 'secret-cof' });
    expect(await deps()).toBe(await deps());
    expect({ fetches, builds }).toEqual({ fetches: 1, builds: 1 });
  });

  it('retries the fetch on the next call after a failure', async () => {
    process.env[`${KEY}_SECRET_ARN`] = 'arn:cof';
    let calls = 0;
    const deps = afterSecrets(
      [KEY],
      () => process.env[KEY],
      async () => {
        calls++;
        if (calls === 1) throw new Error('throttled');
        return 'second-time';
      },
    );
    await expect(deps()).rejects.toThrow('throttled');
    await expect(deps()).resolves.toBe('second-time');
  });

  it('retries the build on the next call after it threw (e.g. a configuration fixed by a new secret version)', async () => {
    let builds = 0;
    const deps = afterSecrets([], () => {
      builds++;
      if (builds === 1) throw new Error('bad config');
      return 'built';
    });
    await expect(deps()).rejects.toThrow('bad config');
    await expect(deps()).resolves.toBe('built');
    expect(builds).toBe(2);
  });
});
