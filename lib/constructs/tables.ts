import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, ProjectionType, StreamViewType, TableV2, type ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLE } from '../../lambdas/topology';

const key = (name: string) => ({ name, type: AttributeType.STRING });

/**
 * The single table of the service (DESIGN §7), built from the same `TABLE` data the local runner creates
 * DynamoDB Local's table from, so keys, indexes and the stream cannot drift between AWS and `npm start`.
 *
 * The stream carries every committed change to the event publisher (DESIGN §8; lib/constructs/functions.ts
 * attaches it), with the view `TABLE.streamView` names.
 */
export class Tables extends Construct {
  readonly table: ITableV2;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new TableV2(this, 'Table', {
      billing: Billing.onDemand(),
      partitionKey: key(TABLE.partitionKey),
      sortKey: key(TABLE.sortKey),
      globalSecondaryIndexes: TABLE.globalIndexes.map((gsi) => ({
        indexName: gsi.name,
        partitionKey: key(gsi.partitionKey),
        sortKey: key(gsi.sortKey),
        ...(gsi.projectedAttributes === 'ALL'
          ? { projectionType: ProjectionType.ALL }
          : { projectionType: ProjectionType.INCLUDE, nonKeyAttributes: [...gsi.projectedAttributes] }),
      })),
      timeToLiveAttribute: TABLE.ttlAttribute,
      dynamoStream: StreamViewType[TABLE.streamView],
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Token state, operations and their history are the audit trail: a stack deletion or replacement must
      // never take them along.
      removalPolicy: RemovalPolicy.RETAIN,
      deletionProtection: true,
    });
  }
}
