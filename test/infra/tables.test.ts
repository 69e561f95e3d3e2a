import { TABLE } from '../../lambdas/topology';
import { resources, useInfraStacks } from '../support/infra-stack';

/** Infra: the DynamoDB table. Stacks and helpers: test/support/infra-stack.ts. */
const { cases } = useInfraStacks();

describe.each(cases)('%s', (_name, get) => {
  test('table: pk/sk, GSIs projecting what TABLE says (gsi1 keys + issuerCardRefId, gsi2 all), no LSI, TTL, on-demand, PITR, deletion protection, RETAIN', () => {
    const s = get();
    const tables = resources(s, 'AWS::DynamoDB::GlobalTable');
    expect(tables).toHaveLength(1);
    const [, table] = tables[0]!;
    const p = table.Properties;
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
    expect(p.BillingMode).toBe('PAY_PER_REQUEST');
    expect(p.KeySchema).toEqual([
      { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
    ]);
    expect(p.GlobalSecondaryIndexes).toEqual(
      TABLE.globalIndexes.map((g) => ({
        IndexName: g.name,
        KeySchema: [
          { AttributeName: g.partitionKey, KeyType: 'HASH' },
          { AttributeName: g.sortKey, KeyType: 'RANGE' },
        ],
        // gsi1: nothing a token or operation write changes is projected, so state changes do not rewrite the index;
        // gsi2 (the event log): written once per event, it carries what GET /v1/events returns.
        Projection: g.projectedAttributes === 'ALL' ? { ProjectionType: 'ALL' } : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...g.projectedAttributes] },
      })),
    );
    expect(p.GlobalSecondaryIndexes.map((g: { IndexName: string; Projection: unknown }) => [g.IndexName, g.Projection])).toEqual([
      ['gsi1', { ProjectionType: 'INCLUDE', NonKeyAttributes: ['issuerCardRefId'] }],
      ['gsi2', { ProjectionType: 'ALL' }],
    ]);
    expect(p.LocalSecondaryIndexes).toBeUndefined();
    // The history order is an attribute, not an index key.
    expect((p.AttributeDefinitions as Array<{ AttributeName: string }>).map((a) => a.AttributeName).sort()).toEqual(
      [TABLE.partitionKey, TABLE.sortKey, ...TABLE.globalIndexes.flatMap((g) => [g.partitionKey, g.sortKey])].sort(),
    );
    expect(p.TimeToLiveSpecification).toEqual({ AttributeName: TABLE.ttlAttribute, Enabled: true });
    expect(p.Replicas).toHaveLength(1);
    expect(p.Replicas[0]).toMatchObject({ DeletionProtectionEnabled: true, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } });
  });
});
