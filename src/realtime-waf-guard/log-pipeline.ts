import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { commonEnvironment, GuardSettings } from './guard-settings';
import { allowRecordingBlocks, blockRecorderEnvironment, GuardTables } from './guard-tables';
import { ENV } from './handler-env';
import { LogProcessorFunction } from './log-processor-function';
import { handlerDefaults, pinnedRuntime } from '../shared/handler-defaults';
import { suppressNag } from '../shared/nag';

export interface LogPipelineProps {
  readonly settings: GuardSettings;
  readonly tables: GuardTables;
  readonly deadLetterQueue: sqs.IQueue;
  /** Receives the logs instead of a new stream. */
  readonly existingStream?: kinesis.IStream;
  /** Encrypts a new stream; required without `existingStream`. */
  readonly encryptionKey?: kms.IKey;
}

/**
 * Detection: CloudFront real-time logs into a Kinesis stream, and the log processor that counts them per rule and
 * client and records offenders in the blocks table.
 */
export class LogPipeline extends Construct {
  public readonly stream: kinesis.IStream;
  public readonly realtimeLogConfig: cloudfront.IRealtimeLogConfig;
  public readonly logProcessor: lambda.Function;

  constructor(scope: Construct, id: string, props: LogPipelineProps) {
    super(scope, id);
    const { settings, tables } = props;
    this.stream = props.existingStream ?? this.createStream(settings.shardCount, props.encryptionKey!);

    const cloudFrontRole = new iam.Role(this, 'RealtimeLogRole', {
      assumedBy: new iam.ServicePrincipal('cloudfront.amazonaws.com'),
      description: 'CloudFront writes real-time logs to the guard stream',
    });
    // Endpoint.fromKinesisStream grants the role exactly the stream and key actions CloudFront needs.
    this.realtimeLogConfig = new cloudfront.RealtimeLogConfig(this, 'RealtimeLogConfig', {
      endPoints: [cloudfront.Endpoint.fromKinesisStream(this.stream, cloudFrontRole)],
      fields: settings.logFields,
      samplingRate: settings.samplingRate,
    });

    const processor = handlerDefaults(this, 'LogProcessor', {
      description: 'Counts CloudFront real-time log lines per host rule and client IP and records blocks',
      logRetention: settings.logRetention,
      removalPolicy: settings.removalPolicy,
      timeout: Duration.seconds(60),
      memorySize: settings.logProcessorMemorySize,
      environment: {
        ...commonEnvironment(settings),
        ...blockRecorderEnvironment(settings, tables),
        [ENV.FIELDS]: settings.logFields.join(','),
        [ENV.TRUSTED_PROXIES]: settings.trustedProxies.join(','),
        [ENV.IPV6_PREFIX_LENGTH]: String(settings.ipv6PrefixLength),
        [ENV.RULES_CACHE_SECONDS]: String(settings.rulesCacheSeconds),
        [ENV.COUNTER_RETENTION_SECONDS]: String(settings.counterRetentionSeconds),
        [ENV.COUNTING]: settings.counting._environmentValue(),
      },
    });
    const logProcessor = new LogProcessorFunction(this, 'LogProcessor', processor.functionOptions);
    suppressNag(logProcessor, [pinnedRuntime()]);
    allowRecordingBlocks(processor.role, tables, 'dynamodb:UpdateItem', 'dynamodb:GetItem');
    logProcessor.addEventSource(new sources.KinesisEventSource(this.stream, {
      startingPosition: lambda.StartingPosition.LATEST,
      batchSize: settings.batchSize,
      maxBatchingWindow: Duration.seconds(settings.batchingWindowSeconds),
      // Must stay 1: a batch is kept from counting twice per shard (sequence marks under EXACT, claims under
      // LOCAL_FIRST), which relies on one invocation per shard at a time, in order. A higher factor would let a retried
      // batch and its successor race: counted twice, or a claim taken by a later batch leaving an earlier one uncounted.
      parallelizationFactor: 1,
      bisectBatchOnError: true,
      retryAttempts: settings.retryAttempts,
      maxRecordAge: Duration.seconds(settings.maxRecordAgeSeconds),
      onFailure: new sources.SqsDlq(props.deadLetterQueue),
      reportBatchItemFailures: true,
    }));
    this.logProcessor = logProcessor;
  }

  private createStream(shardCount: number | undefined, encryptionKey: kms.IKey): kinesis.IStream {
    const stream = new kinesis.Stream(this, 'Stream', {
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey,
      streamMode: shardCount === undefined ? kinesis.StreamMode.ON_DEMAND : kinesis.StreamMode.PROVISIONED,
      shardCount,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    suppressNag(stream, [{
      id: 'AwsSolutions-KDS3',
      reason: 'A customer managed key on purpose: the records hold client IPs and paths, and the key policy and CloudTrail ' +
        'control and audit who reads them. One key serves the stream and the alert topic.',
    }]);
    return stream;
  }
}
