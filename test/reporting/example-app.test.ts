import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { buildReportingStack } from '../../examples/reporting/app';
import { nagFindings } from '../realtime-waf-guard/construct-fixtures';

describe('reporting example app', () => {
  test('synthesizes the guard and the reports: function, two schedules, bucket; cdk-nag clean', () => {
    const stack = buildReportingStack(new App());
    const template = Template.fromStack(stack);
    template.resourcePropertiesCountIs('AWS::Lambda::Function', { Description: 'Daily and monthly WAF reports of WafReportingExample/Reports' }, 1);
    // The guard's own rules stay in EventBridge; the reports run on Scheduler in Berlin time.
    template.resourceCountIs('AWS::Scheduler::Schedule', 2);
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'cron(0 5 * * ? *)', ScheduleExpressionTimezone: 'Europe/Berlin' });
    template.resourceCountIs('AWS::S3::Bucket', 1);
    expect(nagFindings(stack)).toEqual([]);
  });

  test('synthesizes without a warning (cdk synth --strict): its one 30-per-minute rule counts EXACT, said as information', () => {
    const stack = buildReportingStack(new App());
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue()).map((w) => String(w.entry.data))).toEqual([]);
    Annotations.fromStack(stack).hasInfo('*', Match.stringLikeRegexp('^counting: Counting.EXACT chosen'));
  });
});
