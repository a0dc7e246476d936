import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../sdk/adapters/aws/env.ts';
import { build, logicalId, resourcesOf } from './support.ts';

/** infra/constructs/payload-bucket.ts: the large-payload bucket and what the functions learn of it. */
describe('given the large-payload bucket', () => {
  const { stack, durable, template } = build({ retention: Duration.days(7), maxPayloadBytes: 8 * 1024 * 1024 });
  const bucket = Object.values(resourcesOf(template, 'AWS::S3::Bucket'))[0]!;

  it('then it is encrypted (S3-managed keys), private, owner-enforced, retained like the table, and TLS-only', () => {
    expect(bucket.Properties.BucketEncryption).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] });
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(bucket.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    expect(bucket.DeletionPolicy).toBe('Retain');
    const policy = Object.values(resourcesOf(template, 'AWS::S3::BucketPolicy'))[0]!;
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ]);
  });

  it('then its lifecycle rule expires payload objects with their run: retention + 366 days (as the items\' TTL)', () => {
    expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual([
      { Id: 'expire-with-runs', Prefix: 'runs/', Status: 'Enabled', ExpirationInDays: 7 + 366, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
    ]);
  });

  it('then every function gets the bucket name and maxPayloadBytes', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function')).filter((f) => f.Properties.Environment?.Variables?.[ENV.tableName]);
    expect(functions).toHaveLength(3);
    for (const f of functions) {
      expect(f.Properties.Environment.Variables).toMatchObject({ [ENV.payloadBucket]: { Ref: logicalId(stack, durable.payloadBucket) }, [ENV.maxPayloadBytes]: String(8 * 1024 * 1024) });
    }
  });

  it('then maxPayloadBytes outside 1..512 MiB or fractional is rejected', () => {
    for (const maxPayloadBytes of [0, 512 * 1024 * 1024 + 1, 1.5]) {
      expect(() => build({ maxPayloadBytes })).toThrow(/maxPayloadBytes must be an integer from 1 to 536870912/);
    }
  });
});
