import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { LIST_BY_NAME_INDEX, LIST_INDEX, SWEEP_INDEX } from '../../sdk/adapters/aws/env.ts';
import { TABLE_SCHEMA } from '../../sdk/adapters/aws/table-schema.ts';
import { build } from './support.ts';

/** infra/constructs/table.ts: the table mirrors the store's schema. */
describe('given a DurableTasks with default props', () => {
  const { template } = build();

  it('then the table mirrors the AWS store schema: keys, the sweep GSI (projecting only what the sweeper reads), TTL', () => {
    const typeOf = (key: { type: 'S' | 'N' }) => key.type;
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: TABLE_SCHEMA.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: TABLE_SCHEMA.sortKey.name, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: TABLE_SCHEMA.globalSecondaryIndexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      })),
      AttributeDefinitions: Match.arrayEquals(
        // Each attribute once: the two listing indexes share their sort key.
        [
          ...new Map(
            [TABLE_SCHEMA.partitionKey, TABLE_SCHEMA.sortKey, ...TABLE_SCHEMA.globalSecondaryIndexes.flatMap((i) => [i.partitionKey, i.sortKey])].map(
              (key) => [key.name, key] as const,
            ),
          ).values(),
        ].map((key) => ({ AttributeName: key.name, AttributeType: typeOf(key) })),
      ),
      TimeToLiveSpecification: { AttributeName: TABLE_SCHEMA.timeToLiveAttribute, Enabled: true },
    });
    // Event waiters are found through base-table items (strongly consistent reads), not through an index; the
    // other two indexes list runs (runs.list, no Scan).
    expect(TABLE_SCHEMA.globalSecondaryIndexes.map((i) => i.indexName)).toEqual([SWEEP_INDEX, LIST_INDEX, LIST_BY_NAME_INDEX]);
  });

  it('then the table is on-demand, point-in-time recoverable, KMS-encrypted with the AWS managed key, and retained', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });
});
