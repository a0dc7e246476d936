import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { build, logicalId, resourcesOf } from './support.ts';

/** infra/constructs/queues.ts: the dispatch queue, its DLQ and the event DLQ (custom props: durable-tasks.test.ts). */
describe('given a DurableTasks with default props', () => {
  const { stack, durable, template } = build();

  it('then the dispatch queue has a visibility timeout of 6 x the worker timeout and a redrive policy to its DLQ', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 6 * 60,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack, durable.deadLetterQueue), 'Arn'] },
        maxReceiveCount: 5,
      },
    });
  });

  it('then every queue is SSE-SQS encrypted, retained, and denies requests without TLS', () => {
    const queues = resourcesOf(template, 'AWS::SQS::Queue');
    for (const [id, queue] of Object.entries(queues)) {
      expect(queue.Properties.SqsManagedSseEnabled, id).toBe(true);
      expect(queue.DeletionPolicy, id).toBe('Retain');
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              Principal: { AWS: '*' },
            }),
          ]),
        },
      });
    }
    const dlqs = [durable.deadLetterQueue, durable.eventDeadLetterQueue].map((q) => logicalId(stack, q));
    for (const id of dlqs) expect(queues[id]?.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });
});
