/**
 * The large-payload bucket: inputs, outputs and step results above 256 KiB (sdk/core/payloads.ts), one object
 * per payload under `runs/<runId>/<sha256>`. Encrypted (S3-managed keys: no key policy to open, no KMS request
 * per object), TLS only, no public access, and a lifecycle rule that expires objects as the run's items expire
 * (retention + 366 days after they were written: sdk/core/run-scope.ts).
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { IN_FLIGHT_SECONDS, PAYLOAD_KEY_PREFIX } from '../../sdk/adapters/aws/env.ts';
import { acknowledgeWildcardResource } from './nag.ts';

/** What each kind of client sends: replays and starts put and get; nobody deletes (the lifecycle rule does). */
export const PAYLOAD_ACTIONS = ['s3:PutObject', 's3:GetObject'] as const;

export function createPayloadBucket(scope: Construct, removalPolicy: RemovalPolicy, retentionDays: number): s3.Bucket {
  const bucket = new s3.Bucket(scope, 'PayloadBucket', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    lifecycleRules: [
      {
        id: 'expire-with-runs',
        prefix: PAYLOAD_KEY_PREFIX,
        expiration: Duration.days(retentionDays + IN_FLIGHT_SECONDS / 86_400),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      },
    ],
    // As the table: kept by default. No autoDeleteObjects (the stack deletes no data through custom resources):
    // with RemovalPolicy.DESTROY, empty the bucket before deleting the stack.
    removalPolicy,
  });
  Validations.of(bucket).acknowledge({
    id: 'AwsSolutions-S1',
    reason:
      'Server access logs would need a second bucket; every request to this one is made by the construct\'s own roles ' +
      'and recorded by CloudTrail data events if enabled, and objects are private, encrypted and TLS-only.',
  });
  return bucket;
}

/**
 * Lets `grantee` put and get large-payload objects: `runs/*` in `bucket` only, no list, no delete.
 * test/infra/recorded-grants.integration.test.ts records the requests and checks them against this grant.
 */
export function grantPayloads(bucket: s3.IBucket, grantee: iam.IGrantable): iam.Grant {
  const objects = bucket.arnForObjects(`${PAYLOAD_KEY_PREFIX}*`);
  const grant = iam.Grant.addToPrincipal({ grantee, actions: [...PAYLOAD_ACTIONS], resourceArns: [objects] });
  if (grantee.grantPrincipal instanceof iam.Role) {
    acknowledgeWildcardResource(
      grantee.grantPrincipal,
      objects,
      'Payload objects are written at run time under generated keys (run id and content hash): the resource is ' +
        "every object under runs/ in durable-tasks' own payload bucket, and only PutObject and GetObject on them.",
    );
  }
  return grant;
}
