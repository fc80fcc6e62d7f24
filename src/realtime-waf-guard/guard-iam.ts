import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';

/** Exactly these actions on exactly this table (no index ARNs, no KMS: the tables use the AWS managed key). */
export function allowTableActions(role: iam.IRole, table: dynamodb.ITable, ...actions: string[]): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: [table.tableArn] }));
}

/** sns:Publish plus the two KMS actions an encrypted topic needs (grantPublish would add kms:GenerateDataKey*). */
export function allowPublish(role: iam.IRole, topic: sns.ITopic): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [topic.topicArn] }));
  if (topic.masterKey) {
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [topic.masterKey.keyArn],
    }));
  }
}
