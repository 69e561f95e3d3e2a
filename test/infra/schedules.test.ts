import { App } from 'aws-cdk-lib';
import { loadStackConfig } from '../../lib/config';
import { planFunctions } from '../../lib/constructs/functions';
import { TokenLifecycleStack } from '../../lib/token-lifecycle-stack';
import { SERVICE_TOPOLOGY, type Topology } from '../../lib/topology';
import { SCHEDULES, type HandlerName } from '../../lambdas/topology';
import { EXTENDED, resources, getAtt, rateMinutesOf, useInfraStacks } from '../support/infra-stack';

/** Infra: the EventBridge schedules and the functions they run. Stacks and helpers: test/support/infra-stack.ts. */
const { appProps, service, extended, cases } = useInfraStacks();

describe.each(cases)('%s', (_name, get) => {
  test('schedules: one rule per entry, rate(n minutes), targeting its function (retry 2, max age 1 h); async retries off', () => {
    const s = get();
    const rules = resources(s, 'AWS::Events::Rule');
    expect(rules).toHaveLength(s.topology.schedules.length);
    const permissions = resources(s, 'AWS::Lambda::Permission').filter(([, p]) => p.Properties.Principal === 'events.amazonaws.com');
    expect(permissions).toHaveLength(s.topology.schedules.length);
    for (const schedule of s.topology.schedules) {
      const fnId = s.id(s.stack.functions.forApi(schedule.handler, 'backoffice'));
      const found = rules.filter(
        ([, r]) => rateMinutesOf(r.Properties.ScheduleExpression) === schedule.rateMinutes && r.Properties.Targets[0].Arn['Fn::GetAtt'][0] === fnId,
      );
      expect(found).toHaveLength(1);
      const [ruleId, rule] = found[0]!;
      expect(rule.Properties.State).toBe('ENABLED');
      expect(rule.Properties.Targets).toEqual([{ Arn: getAtt(fnId), Id: 'Target0', RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 } }]);
      // EventBridge may invoke the function for this rule only.
      expect(permissions.filter(([, p]) => p.Properties.FunctionName['Fn::GetAtt'][0] === fnId).map(([, p]) => p.Properties)).toContainEqual({
        Action: 'lambda:InvokeFunction',
        FunctionName: getAtt(fnId),
        Principal: 'events.amazonaws.com',
        SourceArn: getAtt(ruleId),
      });
    }
    const scheduledFns = [...new Set(s.topology.schedules.map((x) => s.id(s.stack.functions.forApi(x.handler, 'backoffice'))))];
    const invokeConfigs = resources(s, 'AWS::Lambda::EventInvokeConfig').map(([, c]) => c.Properties);
    expect(invokeConfigs.map((c) => c.FunctionName.Ref).sort()).toEqual(scheduledFns.sort());
    for (const config of invokeConfigs) expect(config).toMatchObject({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 3600 });
  });
});

describe('service topology: network tokens, token updates and reconciliation', () => {
  const fnOf = (handler: HandlerName) => service.stack.functions.forApi(handler, 'backoffice');

  test('reconcile-sweep: listed only in SCHEDULES, still a Lambda; every 5 minutes; no route, no queue', () => {
    expect(SCHEDULES).toContainEqual({ handler: 'reconcile-sweep', rateMinutes: 5 });
    const fnId = service.id(fnOf('reconcile-sweep'));
    const [, rule] = resources(service, 'AWS::Events::Rule').find(([, r]) => r.Properties.Targets[0].Arn['Fn::GetAtt'][0] === fnId)!;
    expect(rule.Properties.ScheduleExpression).toBe('rate(5 minutes)');
    expect(service.template.toJSON().Resources[fnId].Properties.Timeout).toBe(300);
    expect(resources(service, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => m.Properties.FunctionName.Ref === fnId)).toHaveLength(0);
    const json = service.template.toJSON().Resources;
    const integrations = resources(service, 'AWS::ApiGatewayV2::Integration').filter(([, i]) => i.Properties.IntegrationUri['Fn::GetAtt'][0] === fnId);
    expect(integrations).toHaveLength(0);
    expect(json[fnId].Properties.Environment.Variables).toMatchObject({ RECONCILE_AFTER_MS: '900000', D1_ISSUER_BASE_URL: expect.any(String) });
  });
});

describe('configuration-specific wiring', () => {
  test('a handler both routed and scheduled is one function: its routes and its rule share it', () => {
    const fn = extended.stack.functions.forApi('reconcile', 'backoffice');
    expect(planFunctions(EXTENDED).filter((p) => p.handler === 'reconcile')).toHaveLength(1);
    const [, rule] = resources(extended, 'AWS::Events::Rule').find(([, r]) => rateMinutesOf(r.Properties.ScheduleExpression) === 60)!;
    expect(rule.Properties.Targets[0].Arn).toEqual(getAtt(extended.id(fn)));
    expect(extended.template.toJSON().Resources[extended.id(fn)].Properties.Timeout).toBe(900);
  });

  test('a bad or duplicate schedule fails synth', () => {
    const withSchedules = (schedules: Topology['schedules']) => () =>
      new TokenLifecycleStack(new App(appProps()), 'Bad', { config: loadStackConfig(() => undefined), topology: { ...SERVICE_TOPOLOGY, schedules } });
    expect(withSchedules([{ handler: 'reconcile-sweep', rateMinutes: 0 }])).toThrow(/rateMinutes must be a whole number/);
    expect(withSchedules([...SCHEDULES, ...SCHEDULES])).toThrow(/duplicate schedule: reconcile-sweep every 5 min/);
  });
});
