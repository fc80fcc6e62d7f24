import { App, Aspects, Stack, StackProps } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import { AwsSolutionsChecks } from 'cdk-nag';
import { RealtimeWafGuard, RealtimeWafGuardProps } from '../../src';

export const US_EAST_1: StackProps = { env: { account: '111111111111', region: 'us-east-1' } };

/** A fresh us-east-1 stack. */
export function newStack(props: StackProps = US_EAST_1, id = 'GuardStack'): Stack {
  return new Stack(new App(), id, props);
}

/** A stack holding one guard built from the props, and its template. */
export function synthGuard(props: RealtimeWafGuardProps = {}): { stack: Stack; guard: RealtimeWafGuard; template: Template } {
  const stack = newStack();
  const guard = new RealtimeWafGuard(stack, 'Guard', props);
  return { stack, guard, template: Template.fromStack(stack) };
}

/** A certificate for the test distributions' alternate domain names. */
export function testCertificate(stack: Stack, id = 'Certificate'): acm.ICertificate {
  return acm.Certificate.fromCertificateArn(stack, id, 'arn:aws:acm:us-east-1:111111111111:certificate/11111111-2222-3333-4444-555555555555');
}

/** A distribution with an alternate domain name and one additional behavior, as a user would write it. */
export function newDistribution(stack: Stack, id = 'Distribution'): cloudfront.Distribution {
  return new cloudfront.Distribution(stack, id, {
    domainNames: [`${id.toLowerCase()}.example.com`],
    certificate: testCertificate(stack, `${id}Certificate`),
    defaultBehavior: { origin: new origins.HttpOrigin('origin.example.com') },
    additionalBehaviors: { '/api/*': { origin: new origins.HttpOrigin('api.example.com') } },
  });
}

/** Expects the guard constructor to throw a message matching the pattern. */
export function expectSynthError(props: RealtimeWafGuardProps, message: RegExp, stackProps: StackProps = US_EAST_1): void {
  expect(() => new RealtimeWafGuard(newStack(stackProps), 'Guard', props)).toThrow(message);
}

/** Runs AwsSolutionsChecks and returns every unsuppressed error and warning, formatted for a readable failure. */
export function nagFindings(stack: Stack): string[] {
  Aspects.of(stack).add(new AwsSolutionsChecks({ verbose: true }));
  const pattern = Match.stringLikeRegexp('AwsSolutions-.*');
  const findings = [
    ...Annotations.fromStack(stack).findError('*', pattern),
    ...Annotations.fromStack(stack).findWarning('*', pattern),
  ];
  return findings.map((f) => `${f.id}: ${String(f.entry.data)}`);
}
