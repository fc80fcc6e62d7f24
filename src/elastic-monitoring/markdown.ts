import { Fn, Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** Escapes text for CloudWatch's Markdown so user values (names, patterns) cannot inject links or formatting. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_{}[\]()#+\-.!|~])/g, '\\$1');
}

/**
 * Console link to a log group. The console wants `/` as `$252F`; a name only known at deploy time is rewritten by
 * CloudFormation (split and join) instead.
 */
export function logGroupConsoleUrl(scope: IConstruct, logGroupName: string): string {
  const region = Stack.of(scope).region;
  const encoded = Token.isUnresolved(logGroupName)
    ? Fn.join('$252F', Fn.split('/', logGroupName))
    : logGroupName.split('/').join('$252F');
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${encoded}`;
}

/**
 * A Markdown list item linking to a log group; the name is shown in a code span (log group names cannot contain
 * backticks, so it needs no escaping even when it is a token).
 */
export function logGroupLink(scope: IConstruct, label: string, logGroupName: string): string {
  return `* [${escapeMarkdown(label)}](${logGroupConsoleUrl(scope, logGroupName)}) \`${logGroupName}\``;
}
