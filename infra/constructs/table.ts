/**
 * The table runs are checkpointed in: runs, journals, waiters, recorded events and DAG task states (single-table
 * layout, ARCHITECTURE.md). Its keys and indexes come from the store's own schema, so the table can never drift
 * from what the AWS adapter writes.
 */
import type { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { TABLE_SCHEMA, type IndexProjection } from '../../sdk/adapters/aws/table-schema.ts';

/** The `Table` of `scope`: on demand, point-in-time recoverable, AWS-managed encryption, TTL, the schema's GSIs. */
export function createTable(scope: Construct, removalPolicy: RemovalPolicy): dynamodb.Table {
  const attribute = (key: { name: string; type: 'S' | 'N' }): dynamodb.Attribute => ({
    name: key.name,
    type: key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
  });
  // AWS::DynamoDB::Table rather than TableV2's GlobalTable: single-region, and what LocalStack deploys faithfully.
  const table = new dynamodb.Table(scope, 'Table', {
    partitionKey: attribute(TABLE_SCHEMA.partitionKey),
    sortKey: attribute(TABLE_SCHEMA.sortKey),
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    // The AWS managed key (aws/dynamodb): KMS-backed and audited in CloudTrail, with nothing to manage and no
    // key grants: its policy admits every principal this account lets use DynamoDB.
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    timeToLiveAttribute: TABLE_SCHEMA.timeToLiveAttribute,
    removalPolicy,
  });
  for (const index of TABLE_SCHEMA.globalSecondaryIndexes) {
    table.addGlobalSecondaryIndex({
      indexName: index.indexName,
      partitionKey: attribute(index.partitionKey),
      sortKey: attribute(index.sortKey),
      ...projectionOf(index.projection),
    });
  }
  return table;
}

/** The CDK form of a `TABLE_SCHEMA` index projection. */
function projectionOf(projection: IndexProjection): Pick<dynamodb.GlobalSecondaryIndexProps, 'projectionType' | 'nonKeyAttributes'> {
  switch (projection.type) {
    case 'INCLUDE':
      return { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [...projection.nonKeyAttributes] };
    case 'KEYS_ONLY':
      return { projectionType: dynamodb.ProjectionType.KEYS_ONLY };
    case 'ALL':
      return { projectionType: dynamodb.ProjectionType.ALL };
  }
}
