/**
 * The data key sealing stored token PANs: the KMS key in AWS (the stack always creates it and passes no raw key),
 * the raw DATA_KEY locally. With neither, the PCI-scoped Lambda refuses to start, naming the variable, instead of
 * failing later on the first PAN it must seal.
 */
const BASE_ENV = {
  TABLE_NAME: 'token-lifecycle',
  D1_COF_BASE_URL: 'http://127.0.0.1:9/cof',
  D1_COF_API_KEY: 'cof-key',
  TR_JWE_PRIVATE_KEY: 'unused-here',
};

async function firstInvocation(env: Record<string, string>): Promise<unknown> {
  const saved = { ...process.env };
  try {
    for (const key of ['DATA_KEY', 'DATA_KEY_KMS_KEY_ARN']) delete process.env[key];
    Object.assign(process.env, BASE_ENV, env);
    let result: Promise<unknown> = Promise.resolve();
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { handler } = require('../../lambdas/handlers/network-token-credentials') as { handler: (event: unknown, context: unknown) => Promise<unknown> };
      result = handler(
        {
          routeKey: 'GET /health',
          rawPath: '/health',
          headers: {},
          requestContext: { http: { method: 'GET', path: '/health', sourceIp: '127.0.0.1' }, requestId: 'r' },
        },
        {},
      );
    });
    return await result;
  } finally {
    process.env = saved;
  }
}

describe('network-token-credentials start-up: the key that seals token PANs', () => {
  it('neither DATA_KEY_KMS_KEY_ARN nor DATA_KEY: refuses to start, naming DATA_KEY', async () => {
    await expect(firstInvocation({})).rejects.toMatchObject({
      name: 'ConfigError',
      variables: ['DATA_KEY'],
      message: expect.stringContaining('DATA_KEY: required when DATA_KEY_KMS_KEY_ARN is unset'),
    });
  });

  it('a KMS key ARN and no DATA_KEY (AWS): starts', async () => {
    await expect(
      firstInvocation({ DATA_KEY_KMS_KEY_ARN: 'arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000' }),
    ).resolves.toBeDefined();
  });

  it('a raw DATA_KEY and no KMS key (local): starts', async () => {
    await expect(firstInvocation({ DATA_KEY: Buffer.alloc(32, 1).toString('base64') })).resolves.toBeDefined();
  });
});
