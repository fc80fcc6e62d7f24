import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { limitLength } from './cfn-text';

export interface AlarmTopicOptions {
  /** Description of the topic's key. */
  readonly keyDescription: string;
  /** Display name of the topic (cut to SNS's 100 characters). */
  readonly displayName: string;
  /** What happens to the key when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
}

/** A TLS-only topic for CloudWatch alarms, encrypted with a rotating key of its own (`AlarmTopic`, `AlarmTopicKey`). */
export function encryptedAlarmTopic(scope: Construct, options: AlarmTopicOptions): { topic: sns.Topic; key: kms.Key } {
  const key = new kms.Key(scope, 'AlarmTopicKey', {
    description: options.keyDescription,
    enableKeyRotation: true,
    removalPolicy: options.removalPolicy,
  });
  // CloudWatch alarms publish to an encrypted topic only if they may use its key.
  key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
  const topic = new sns.Topic(scope, 'AlarmTopic', {
    displayName: limitLength(options.displayName, 100),
    masterKey: key,
    enforceSSL: true,
  });
  return { topic, key };
}
