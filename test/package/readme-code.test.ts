import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { App } from 'aws-cdk-lib';
import * as ts from 'typescript';
import { codeBlocksOf } from '../support/markdown';

/**
 * Every TypeScript block of the README and docs/ compiles against the package as a user would paste it, importing from
 * 'cdk-waf-guard' (mapped to src/index.ts); every complete example (a block that creates an `App`) synthesizes without
 * a warning, as `cdk synth --strict` requires of a first stack; the quick start does what it tells the reader. A block
 * preceded by `<!-- fragment -->` is a piece of a program and is skipped.
 */
const ROOT = join(__dirname, '..', '..');
const documents = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

interface Example {
  readonly where: string;
  readonly heading: string;
  readonly fileName: string;
  readonly code: string;
}

const examples: Example[] = documents.flatMap((document) =>
  codeBlocksOf(readFileSync(join(ROOT, document), 'utf8'))
    .filter((b) => (b.language === 'ts' || b.language === 'typescript') && !b.fragment)
    .map((b) => ({
      where: `${document}:${b.line}`,
      heading: b.heading,
      // files that do not exist, beside the tests, so that packages resolve from the repository's node_modules
      fileName: join(ROOT, 'test', 'package', '.readme-code', `${document.replace(/[/.]/g, '-')}-${b.line}.ts`),
      code: b.code,
    })));

function compilerOptions(): ts.CompilerOptions {
  const configFile = join(ROOT, 'tsconfig.dev.json');
  const config = ts.getParsedCommandLineOfConfigFile(configFile, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); },
  })!;
  return {
    ...config.options,
    noEmit: true,
    // a sample may name what it builds without using it (`const monitor = new ElasticWafMonitor(...)`)
    noUnusedLocals: false,
    noUnusedParameters: false,
    paths: { 'cdk-waf-guard': [join(ROOT, 'src', 'index.ts')] },
  };
}

describe('README code blocks', () => {
  test('there are blocks to check, the quick start first among them', () => {
    expect(examples.length).toBeGreaterThanOrEqual(6);
    expect(examples[0].heading).toBe('Quick start');
  });

  test('every TypeScript block type-checks against the package', () => {
    const options = compilerOptions();
    const host = ts.createCompilerHost(options);
    const byName = new Map(examples.map((e) => [e.fileName, e]));
    const getSourceFile = host.getSourceFile.bind(host);
    const fileExists = host.fileExists.bind(host);
    const readFile = host.readFile.bind(host);
    host.getSourceFile = (name, language, onError, shouldCreate) => {
      const example = byName.get(name);
      return example ? ts.createSourceFile(name, example.code, language) : getSourceFile(name, language, onError, shouldCreate);
    };
    host.fileExists = (name) => byName.has(name) || fileExists(name);
    host.readFile = (name) => byName.get(name)?.code ?? readFile(name);

    // A control in the same program: a prop of the wrong type must be reported, or the check checks nothing.
    const control = join(ROOT, 'test', 'package', '.readme-code', 'control.ts');
    byName.set(control, {
      where: 'control',
      heading: '',
      fileName: control,
      code: "import { Stack } from 'aws-cdk-lib';\nimport { RealtimeWafGuard } from 'cdk-waf-guard';\nnew RealtimeWafGuard(new Stack(), 'Guard', { samplingRate: 'all' });\n",
    });

    const program = ts.createProgram([...byName.keys()], options, host);
    const errors = [
      ...program.getOptionsDiagnostics(),
      ...[...byName.values()].flatMap((e) => {
        const file = program.getSourceFile(e.fileName)!;
        return [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)];
      }),
    ].map((d) => {
      const example = d.file && byName.get(d.file.fileName);
      const at = example && d.start !== undefined ? `${example.where} + line ${d.file!.getLineAndCharacterOfPosition(d.start).line + 1}` : 'options';
      return `${at}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    expect(errors.filter((e) => !e.startsWith('control'))).toEqual([]);
    expect(errors).toEqual([expect.stringMatching(/^control \+ line 3: Type 'string' is not assignable to type 'number'/)]);
  });

  const complete = examples.filter((e) => /^const app = new App\(\);$/m.test(e.code));

  test('the complete examples include the usage of each construct', () => {
    // The quick start, RealtimeWafGuard usage and its blockRules snippet, two ElasticWafMonitor examples, WafReporting.
    expect(complete.length).toBeGreaterThanOrEqual(5);
  });

  test.each(complete.map((e) => [e.where, e]))('%s synthesizes without a warning (cdk synth --strict passes)', (_where, example) => {
    const assembly = synthesize(example as Example);
    const messages = assembly.stacks.flatMap((stack) => stack.messages
      .filter((m) => m.level === 'warning' || m.level === 'error')
      .map((m) => `${stack.stackName} ${m.id}: ${m.level}: ${String(m.entry.data)}`));
    expect(messages).toEqual([]);
    // WAF refuses a geo match on a code that names no country at deploy, long after synth (cfn-lint W3030)
    const codes = assembly.stacks.flatMap((stack) => valuesOf(stack.template, 'CountryCodes').flat());
    expect(codes.filter((code) => !isCountryCode(code))).toEqual([]);
  });

  test('the quick start synthesizes with no warning or error', () => {
    const quickStart = examples[0];
    expect(quickStart.code).toMatch(/^const app = new App\(\);$/m);
    const assembly = synthesize(quickStart);

    const messages = assembly.stacks.flatMap((stack) => stack.messages
      .filter((m) => m.level !== 'info')
      .map((m) => `${stack.stackName} ${m.id}: ${m.level}: ${String(m.entry.data)}`));
    expect(messages).toEqual([]);
    const [stack] = assembly.stacks;
    expect(stack.environment.region).toBe('us-east-1');
    // the quick start tells the reader to look for the dashboard by this name, and to confirm an email subscription
    const resources = Object.entries(stack.template.Resources as Record<string, { Type: string; Properties?: any }>);
    expect(resources.filter(([, r]) => r.Type === 'AWS::CloudWatch::Dashboard').map(([id]) => id))
      .toEqual([expect.stringMatching(/^GuardConsoleDashboard/)]);
    expect(resources.filter(([, r]) => r.Type === 'AWS::SNS::Subscription').map(([, r]) => r.Properties))
      .toEqual([expect.objectContaining({ Protocol: 'email', Endpoint: 'security@example.com' })]);
    // attachTo gave the distribution the guard's WebACL and its behavior the real-time logs
    const distribution = resources.find(([, r]) => r.Type === 'AWS::CloudFront::Distribution')![1].Properties.DistributionConfig;
    expect(distribution.WebACLId).toBeDefined();
    expect(distribution.DefaultCacheBehavior.RealtimeLogConfigArn).toBeDefined();
  });
});

/** Runs an example as the user's app would run, with the package's source standing in for the installed package. */
function synthesize(example: Example) {
  const js = ts.transpileModule(`${example.code}\nexports.__app = app;\n`, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  }).outputText;
  const module = { exports: {} as { __app?: App } };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = (id: string) => (id === 'cdk-waf-guard' ? require('../../src') : require(id));
  new Function('require', 'module', 'exports', js)(load, module, module.exports);
  return module.exports.__app!.synth();
}

/** Every value under a key of that name, anywhere in a template. */
function valuesOf(node: unknown, key: string): unknown[] {
  if (Array.isArray(node)) return node.flatMap((item) => valuesOf(item, key));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, v]) => (k === key ? [v] : valuesOf(v, key)));
}

const regions = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });

/** An ISO 3166-1 alpha-2 code of a country or territory, as ICU knows them (ZZ is its "unknown region"). */
function isCountryCode(code: unknown): boolean {
  return typeof code === 'string' && /^[A-Z]{2}$/.test(code) && code !== 'ZZ' && regions.of(code) !== undefined;
}
