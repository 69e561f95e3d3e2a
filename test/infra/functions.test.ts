import { STREAM_CONSUMER_TIMEOUT_SECONDS, planFunctions } from '../../lib/constructs/functions';
import { dlqEnvVar } from '../../lib/constructs/queues';
import { SERVICE_TOPOLOGY } from '../../lib/topology';
import { OPTIONAL_SECRET_ENV_KEYS, QUEUES, SECRET_ENV_KEYS, type OptionalSecretEnvKey, type QueueKey } from '../../lambdas/topology';
import { EXTENDED, resources, getAtt, actionsOf, scheduledTimeout, roleStatements, useInfraStacks } from '../support/infra-stack';

/** Infra: the Lambda functions: which exist, their runtime settings and env, and what their roles may do. Stacks and helpers: test/support/infra-stack.ts. */
const { service, extended, cases } = useInfraStacks();

describe.each(cases)('%s', (_name, get) => {
  test('functions: exactly the referenced handlers, arm64 nodejs24.x, X-Ray, own log group, memory and timeout', () => {
    const s = get();
    const fns = resources(s, 'AWS::Lambda::Function');
    const plans = planFunctions(s.topology);
    expect(fns).toHaveLength(plans.length);
    for (const [, fn] of fns) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler', TracingConfig: { Mode: 'Active' } });
      expect(fn.Properties.LoggingConfig.LogGroup).toBeDefined();
      expect(fn.Properties.Environment.Variables).toMatchObject({
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'token-lifecycle',
        LOG_LEVEL: 'INFO',
      });
    }
    for (const plan of plans) {
      const props = s.template.toJSON().Resources[s.id(s.stack.functions.forApi(plan.handler, plan.api ?? 'backoffice'))].Properties;
      expect(props.MemorySize).toBe(s.topology.handlers[plan.handler].memoryMb ?? 256);
      const queueTimeouts = plan.consumes.map((c) => QUEUES[c.queue].consumerTimeoutSeconds);
      expect(props.Timeout).toBe(
        Math.max(
          ...queueTimeouts,
          plan.tableStream ? STREAM_CONSUMER_TIMEOUT_SECONDS : 0,
          ...plan.schedules.map((x) => scheduledTimeout(x.rateMinutes)),
          plan.http ? 10 : 0,
        ),
      );
    }
  });

  test('env: each variable a handler declares is wired from its resource; secrets only as <KEY>_SECRET_ARN', () => {
    const s = get();
    const json = s.template.toJSON().Resources;
    for (const plan of planFunctions(s.topology)) {
      const vars = json[s.id(s.stack.functions.forApi(plan.handler, plan.api ?? 'backoffice'))].Properties.Environment.Variables;
      for (const key of s.topology.handlers[plan.handler].env) {
        if ((SECRET_ENV_KEYS as readonly string[]).includes(key)) {
          expect(vars[key]).toBeUndefined();
          expect(vars[`${key}_SECRET_ARN`]).toBeDefined();
        } else if ((OPTIONAL_SECRET_ENV_KEYS as readonly string[]).includes(key)) {
          // Wired when configured, absent (no var at all) otherwise; never the value.
          expect(vars[key]).toBeUndefined();
          expect(vars[`${key}_SECRET_ARN`] !== undefined).toBe(s.stack.secrets.optional[key as OptionalSecretEnvKey] !== undefined);
        } else if (key === 'DATA_KEY') {
          // The local stand-in for the KMS key: declared by the credentials Lambda, never given a value in AWS.
          expect(vars[key]).toBeUndefined();
          expect(vars.DATA_KEY_KMS_KEY_ARN).toBeDefined();
        } else if (!s.unset.includes(key)) expect(vars[key]).toBeDefined();
      }
      if (vars.TABLE_NAME) expect(vars.TABLE_NAME).toEqual({ Ref: s.id(s.stack.tables.table) });
    }
  });

  test('IAM: no statement has a wildcard action; Resource "*" only for the X-Ray actions', () => {
    const s = get();
    const statements = [
      ...resources(s, 'AWS::IAM::Policy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement),
      ...resources(s, 'AWS::IAM::Role').flatMap(([, r]) => (r.Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement)),
      ...resources(s, 'AWS::IAM::ManagedPolicy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement),
    ];
    expect(statements.length).toBeGreaterThan(0);
    // The one managed policy is the DLQ operator's (attached to nothing); its statements are checked below too.
    expect(resources(s, 'AWS::IAM::ManagedPolicy').map(([id]) => id)).toEqual([s.id(s.stack.dlqOperator.policy)]);
    for (const st of statements) {
      for (const action of [st.Action].flat()) expect(action).not.toContain('*');
      if ([st.Resource].flat().includes('*')) expect([st.Action].flat().sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    }
    for (const [, role] of resources(s, 'AWS::IAM::Role')) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('IAM: each function may send to exactly its sendsTo queues, the DLQs whose URL it reads and its stream on-failure queue, and consume exactly the queues it consumes', () => {
    const s = get();
    const queueArn = (key: QueueKey) => getAtt(s.id(s.stack.queues.byKey[key].queue));
    const keys = Object.keys(QUEUES) as QueueKey[];
    for (const { plan, fn } of s.stack.functions.all) {
      const statements = roleStatements(s, fn);
      const onQueues = (action: string) => statements.filter((st) => actionsOf(st).includes(action)).flatMap((st) => [st.Resource].flat());
      const consumed = [...new Set(plan.consumes.map((c) => c.queue))];
      const env = s.topology.handlers[plan.handler].env as readonly string[];
      const dlqs = keys.filter((k) => env.includes(dlqEnvVar(QUEUES[k]))).map((k) => getAtt(s.id(s.stack.queues.byKey[k].dlq)));
      const onFailure = plan.tableStream ? [getAtt(s.id(s.stack.queues.streamFailures[plan.handler]!))] : [];
      expect({ fn: plan.id, send: onQueues('sqs:SendMessage') }).toEqual({
        fn: plan.id,
        send: [...s.topology.handlers[plan.handler].sendsTo.map(queueArn), ...dlqs, ...onFailure],
      });
      expect({ fn: plan.id, receive: onQueues('sqs:ReceiveMessage') }).toEqual({ fn: plan.id, receive: consumed.map(queueArn) });
      expect({ fn: plan.id, delete: onQueues('sqs:DeleteMessage') }).toEqual({ fn: plan.id, delete: consumed.map(queueArn) });
    }
  });
});

describe('service topology: LCM operations and the D1 submitter', () => {
  const d1Requests = () => getAtt(service.id(service.stack.queues.byKey.d1Requests.queue));
  const table = () => getAtt(service.id(service.stack.tables.table));
  const tableIndexes = () => ({ 'Fn::Join': ['', [table(), '/index/*']] });

  test('d1-submitter: send to and consume d1-requests, read/write the table; nothing else', () => {
    const fn = service.stack.functions.forApi('d1-submitter', 'backoffice');
    const statements = roleStatements(service, fn);
    const logGroup = getAtt(service.id(fn.logGroup));
    for (const st of statements) {
      expect(st.Effect).toBe('Allow');
      const services = new Set(actionsOf(st).map((a) => a.split(':')[0]));
      expect(services.size).toBe(1);
      const [svc] = [...services];
      const expected = { logs: [logGroup], xray: ['*'], dynamodb: [table(), tableIndexes()], sqs: [d1Requests()] }[svc as string];
      expect({ actions: actionsOf(st), resources: [st.Resource].flat() }).toEqual({ actions: actionsOf(st), resources: expected });
    }
    const actions = statements.flatMap(actionsOf);
    expect(actions).toEqual(
      expect.arrayContaining([
        'sqs:SendMessage',
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
      ]),
    );
  });

  test('lcm-operations: SendMessage on d1-requests only (no other queue, no consuming), read/write the table; nothing else', () => {
    const statements = roleStatements(service, service.stack.functions.forApi('lcm-operations', 'backoffice'));
    const sqs = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('sqs:')));
    expect(sqs.map((st) => st.Resource)).toEqual([d1Requests()]);
    expect(actionsOf(sqs[0]!)).toContain('sqs:SendMessage');
    expect(actionsOf(sqs[0]!)).not.toContain('sqs:ReceiveMessage');
    const services = new Set(statements.flatMap(actionsOf).map((a) => a.split(':')[0]));
    expect([...services].sort()).toEqual(['dynamodb', 'logs', 'sqs', 'xray']);
    for (const st of statements.filter((x) => actionsOf(x).some((a) => a.startsWith('dynamodb:'))))
      expect([st.Resource].flat()).toEqual([table(), tableIndexes()]);
  });
});

describe('configuration-specific wiring', () => {
  test('sendsTo grants SendMessage on those queues only', () => {
    const policy = resources(extended, 'AWS::IAM::Policy').find(([, p]) => p.Properties.Roles.some((r: any) => r.Ref.startsWith('FunctionsHealthRole')))!;
    const send = policy[1].Properties.PolicyDocument.Statement.filter((st: any) => [st.Action].flat().includes('sqs:SendMessage'));
    expect(send.map((st: any) => st.Resource)).toEqual([getAtt(extended.id(extended.stack.queues.byKey.issuerCallbacks.queue))]);
  });

  test.each([
    ['service', SERVICE_TOPOLOGY],
    ['extended', EXTENDED],
  ])('%s: only handlers referenced by a route, the fallback, a queue or stream consumer or a schedule become Lambdas', (_name, topology) => {
    const handlers = new Set(planFunctions(topology).map((p) => p.handler));
    const referenced = new Set([
      ...topology.httpRoutes.map((r) => r.handler),
      topology.fallbackHandler,
      ...topology.queueConsumers.map((c) => c.handler),
      ...topology.tableStreamConsumers.map((c) => c.handler),
      ...topology.schedules.map((x) => x.handler),
    ]);
    expect(handlers).toEqual(referenced);
  });
});
