import { OPTIONAL_SECRET_ENV_KEYS, SECRET_ENV_KEYS, type HandlerName, type SecretEnvKey } from '../../lambdas/topology';
import {
  SECRET_MARKERS,
  ALL_SECRET_KEYS,
  IMPORTED_ARN,
  CLIENT_CERT_NAME,
  CLIENT_KEY_ARN,
  resources,
  getAtt,
  actionsOf,
  roleStatements,
  type Synth,
  useInfraStacks,
} from '../support/infra-stack';

/** Infra: secrets (generated, imported, optional) and the token-PAN KMS key: no value in the template, least-privilege grants. Stacks and helpers: test/support/infra-stack.ts. */
const { service, extended, cases } = useInfraStacks();

describe.each(cases)('%s', (_name, get) => {
  test('secrets: no value in the template (sentinels, PEM and APIKEY markers), generated secrets have no SecretString', () => {
    const s = get();
    for (const marker of SECRET_MARKERS) expect({ marker, found: s.json.includes(marker) }).toEqual({ marker, found: false });
    for (const [, secret] of resources(s, 'AWS::SecretsManager::Secret')) {
      expect(secret.Properties.SecretString).toBeUndefined();
      expect(secret.Properties.GenerateSecretString).toBeDefined();
    }
    // Secrets reach functions as <KEY>_SECRET_ARN only; no env var is named after a secret itself.
    for (const [, fn] of resources(s, 'AWS::Lambda::Function')) {
      const names = Object.keys(fn.Properties.Environment.Variables);
      expect(names.filter((n) => (ALL_SECRET_KEYS as readonly string[]).includes(n))).toEqual([]);
    }
  });

  test("IAM: GetSecretValue only, one statement per secret the function's env lists (optional ones when configured); none for the others", () => {
    const s = get();
    const configured = [...SECRET_ENV_KEYS, ...OPTIONAL_SECRET_ENV_KEYS.filter((k) => s.stack.secrets.optional[k])] as readonly string[];
    for (const { plan, fn } of s.stack.functions.all) {
      const listed = s.topology.handlers[plan.handler].env.filter((k) => configured.includes(k));
      const statements = roleStatements(s, fn).filter((st) => actionsOf(st).some((a) => a.startsWith('secretsmanager:')));
      expect({ fn: plan.id, statements: statements.length }).toEqual({ fn: plan.id, statements: listed.length });
      for (const st of statements) expect(actionsOf(st)).toEqual(['secretsmanager:GetSecretValue']);
    }
  });

  test('KMS: the token-PAN key rotates, is retained, has its alias; only functions listing DATA_KEY_KMS_KEY_ARN may use it', () => {
    const s = get();
    const keys = resources(s, 'AWS::KMS::Key');
    expect(keys).toHaveLength(1);
    const [keyId, key] = keys[0]!;
    expect(key).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain', Properties: { EnableKeyRotation: true } });
    // CDK's default key policy: the account's IAM decides, so the role policies below are the whole story.
    expect(key.Properties.KeyPolicy.Statement).toHaveLength(1);
    expect(key.Properties.KeyPolicy.Statement[0].Principal.AWS['Fn::Join'][1]).toContain(':root');
    expect(resources(s, 'AWS::KMS::Alias').map(([, a]) => a.Properties)).toEqual([
      { AliasName: 'alias/token-lifecycle/token-pan', TargetKeyId: getAtt(keyId) },
    ]);
    const json = s.template.toJSON().Resources;
    for (const { plan, fn } of s.stack.functions.all) {
      const uses = s.topology.handlers[plan.handler].env.includes('DATA_KEY_KMS_KEY_ARN');
      const kms = roleStatements(s, fn).filter((st) => actionsOf(st).some((a) => a.startsWith('kms:')));
      expect({ fn: plan.id, kms }).toEqual({
        fn: plan.id,
        kms: uses ? [{ Effect: 'Allow', Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'], Resource: getAtt(keyId) }] : [],
      });
      expect(json[s.id(fn)].Properties.Environment.Variables.DATA_KEY_KMS_KEY_ARN).toEqual(uses ? getAtt(keyId) : undefined);
    }
  });
});

describe('service topology: network tokens, token updates and reconciliation', () => {
  const fnOf = (handler: HandlerName) => service.stack.functions.forApi(handler, 'backoffice');
  /** Which functions may read each secret, from their role policies. */
  const secretReaders = (): Record<SecretEnvKey, string[]> => {
    const readers = Object.fromEntries(SECRET_ENV_KEYS.map((k) => [k, [] as string[]])) as Record<SecretEnvKey, string[]>;
    for (const { plan, fn } of service.stack.functions.all) {
      const read = roleStatements(service, fn)
        .filter((st) => actionsOf(st).includes('secretsmanager:GetSecretValue'))
        .map((st) => JSON.stringify(st.Resource));
      for (const key of SECRET_ENV_KEYS) {
        if (read.includes(JSON.stringify({ Ref: service.id(service.stack.secrets.byKey[key].secret) }))) readers[key].push(plan.handler);
      }
    }
    return readers;
  };

  test('only the functions that seal or open secrets at rest (token PANs, webhook secrets) have any kms: action', () => {
    const KEY_USERS = ['deliver-webhook', 'event-subscriptions', 'network-token-credentials'];
    const withKms = service.stack.functions.all
      .filter(({ fn }) => roleStatements(service, fn).some((st) => actionsOf(st).some((a) => a.startsWith('kms:'))))
      .map(({ plan }) => plan.handler);
    expect(withKms.sort()).toEqual(KEY_USERS);
    const allPolicies = resources(service, 'AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p).includes('"kms:'));
    const roles = (list: unknown[]) => list.map((r) => JSON.stringify(r)).sort();
    expect(roles(allPolicies.map(([, p]) => p.Properties.Roles))).toEqual(roles(KEY_USERS.map((h) => [{ Ref: service.id(fnOf(h as never).role!) }])));
  });

  test('secrets: JWE key and COF API key only for network-token-credentials; TR_API_KEY only for notify-token-update; no raw DATA_KEY in AWS (KMS)', () => {
    expect(secretReaders()).toEqual({
      TR_API_KEY: ['notify-token-update'],
      D1_COF_API_KEY: ['network-token-credentials'],
      TR_JWE_PRIVATE_KEY: ['network-token-credentials'],
    });
    // Stored PANs are sealed under the KMS key: no function gets a raw data key, as a value or as a secret ARN.
    const variables = resources(service, 'AWS::Lambda::Function').flatMap(([, f]) => Object.keys(f.Properties.Environment?.Variables ?? {}));
    expect(variables.filter((v) => v.startsWith('DATA_KEY') && v !== 'DATA_KEY_KMS_KEY_ARN')).toEqual([]);
    expect(resources(service, 'AWS::SecretsManager::Secret')).toHaveLength(SECRET_ENV_KEYS.length);
    const notify = roleStatements(service, fnOf('notify-token-update')).filter((st) => actionsOf(st).some((a) => a.startsWith('secretsmanager:')));
    expect(notify).toEqual([
      { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: service.id(service.stack.secrets.byKey.TR_API_KEY.secret) } },
    ]);
    const vars = service.template.toJSON().Resources[service.id(fnOf('notify-token-update'))].Properties.Environment.Variables;
    expect(vars.TR_API_KEY_SECRET_ARN).toEqual({ Ref: service.id(service.stack.secrets.byKey.TR_API_KEY.secret) });
  });
});

describe('configuration-specific wiring', () => {
  test('imported secrets: GetSecretValue on that secret only (complete ARN, or name-?????? for a name)', () => {
    const fnId = extended.id(extended.stack.functions.forApi('health', 'backoffice'));
    const policy = resources(extended, 'AWS::IAM::Policy').find(([, p]) => p.Properties.Roles.some((r: any) => r.Ref.startsWith('FunctionsHealthRole')))!;
    const secretStatements = policy[1].Properties.PolicyDocument.Statement.filter((st: any) =>
      [st.Action].flat().some((a: string) => a.startsWith('secretsmanager:')),
    );
    expect(secretStatements).toHaveLength(2);
    expect(secretStatements[0]).toEqual({ Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: IMPORTED_ARN });
    expect(JSON.stringify(secretStatements[1].Resource)).toContain(':secret:token-lifecycle/d1-cof-api-key-??????');
    const vars = extended.template.toJSON().Resources[fnId].Properties.Environment.Variables;
    expect(vars.TR_API_KEY_SECRET_ARN).toBe(IMPORTED_ARN);
    // Only the one secret nobody configured (the JWE key) is created.
    expect(resources(extended, 'AWS::SecretsManager::Secret')).toHaveLength(1);
    expect(resources(service, 'AWS::SecretsManager::Secret')).toHaveLength(SECRET_ENV_KEYS.length);
  });
});

describe('mTLS client identity toward D1 (optional secrets d1ClientCertSecret / d1ClientKeySecret)', () => {
  const readers = (s: Synth) =>
    s.stack.functions.all.filter(({ plan }) => OPTIONAL_SECRET_ENV_KEYS.some((k) => s.topology.handlers[plan.handler].env.includes(k)));

  test('the service lists them for d1-submitter, d1-bulk-submitter, reconcile, reconcile-sweep and network-token-credentials', () => {
    expect(
      readers(service)
        .map(({ plan }) => plan.handler)
        .sort(),
    ).toEqual(['d1-bulk-submitter', 'd1-submitter', 'network-token-credentials', 'reconcile', 'reconcile-sweep']);
  });

  test('given: exactly the functions whose env lists them get <KEY>_SECRET_ARN and GetSecretValue on that secret only', () => {
    const json = extended.template.toJSON().Resources;
    const certPolicyArn = extended.stack.secrets.optional.D1_CLIENT_CERT!.policyArn;
    const expected = {
      D1_CLIENT_CERT: {
        grant: JSON.stringify(extended.stack.resolve(certPolicyArn)),
        env: extended.stack.resolve(extended.stack.secrets.optional.D1_CLIENT_CERT!.secret.secretArn),
      },
      D1_CLIENT_KEY: { grant: JSON.stringify(CLIENT_KEY_ARN), env: CLIENT_KEY_ARN },
    };
    expect(expected.D1_CLIENT_CERT.grant).toContain(`:secret:${CLIENT_CERT_NAME}-??????`);
    const readerIds = readers(extended).map(({ fn }) => extended.id(fn));
    expect(readerIds.length).toBeGreaterThan(0);
    for (const { plan, fn } of extended.stack.functions.all) {
      const vars = json[extended.id(fn)].Properties.Environment.Variables;
      const grants = roleStatements(extended, fn)
        .filter((st) => actionsOf(st).includes('secretsmanager:GetSecretValue'))
        .map((st) => JSON.stringify(st.Resource));
      for (const key of OPTIONAL_SECRET_ENV_KEYS) {
        const lists = extended.topology.handlers[plan.handler].env.includes(key);
        expect({ fn: plan.id, key, env: vars[`${key}_SECRET_ARN`], granted: grants.includes(expected[key].grant) }).toEqual({
          fn: plan.id,
          key,
          env: lists ? expected[key].env : undefined,
          granted: lists,
        });
      }
    }
    // Imported, never created: the stack makes only the one required secret nobody configured.
    expect(resources(extended, 'AWS::SecretsManager::Secret')).toHaveLength(1);
  });

  test('absent: no env var, no grant, no secret created for them anywhere', () => {
    expect(service.stack.secrets.optional).toEqual({});
    expect(service.json).not.toMatch(/D1_CLIENT_(CERT|KEY)/);
    expect(service.json).not.toMatch(/client-(cert|key)/i);
    expect(resources(service, 'AWS::SecretsManager::Secret')).toHaveLength(SECRET_ENV_KEYS.length);
  });
});
