import { readFileSync } from 'fs';
import { join } from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as ts from 'typescript';
import * as library from '../../src';

/**
 * The README's complete examples (the TypeScript blocks that create an `App`), run as a user pastes them, with
 * `cdk-waf-guard` resolved to this checkout's source: `cdk synth --strict` fails on any warning, so a first stack
 * built from them must have none.
 */
const README = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

interface Example {
  readonly line: number;
  readonly code: string;
}

function appExamples(): Example[] {
  const examples: Example[] = [];
  const fence = /^```ts\n([\s\S]*?)^```$/gm;
  for (let match = fence.exec(README); match; match = fence.exec(README)) {
    if (!/\bconst app = new App\(\)/.test(match[1])) continue;
    examples.push({ line: README.slice(0, match.index).split('\n').length, code: match[1] });
  }
  return examples;
}

/** Runs one example as CommonJS and returns its app. */
function runExample(code: string): App {
  const js = ts.transpileModule(`${code}\nexport const readmeApp = app;\n`, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020 },
  }).outputText;
  const exported: { readmeApp?: App } = {};
  // The example's own imports, resolved as in the user's app; the package is this checkout's source.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = (id: string): unknown => (id === 'cdk-waf-guard' ? library : require(id));
  new Function('require', 'exports', js)(load, exported);
  return exported.readmeApp!;
}

/**
 * Type errors of the examples, compiled as a user's app with the repository's strict compiler options (unused names
 * allowed) and `cdk-waf-guard` mapped to this checkout's source.
 */
function typeErrors(sources: Example[]): string[] {
  const root = join(__dirname, '..', '..');
  const configFile = ts.readConfigFile(join(root, 'tsconfig.dev.json'), ts.sys.readFile);
  const options: ts.CompilerOptions = {
    ...ts.parseJsonConfigFileContent(configFile.config, ts.sys, root).options,
    noEmit: true,
    // As `cdk init` writes them: a snippet may name a construct it does not use again.
    noUnusedLocals: false,
    noUnusedParameters: false,
    paths: { 'cdk-waf-guard': [join(root, 'src', 'index.ts')] },
  };
  const files = new Map(sources.map((e) => [join(root, `readme-example-line-${e.line}.ts`), e.code]));
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (name) => files.has(name) || ts.sys.fileExists(name);
  host.readFile = (name) => files.get(name) ?? readFile(name);
  host.getSourceFile = (name, language, ...rest) => (files.has(name)
    ? ts.createSourceFile(name, files.get(name)!, language)
    : getSourceFile(name, language, ...rest));
  const program = ts.createProgram([...files.keys()], options, host);
  return [...files.keys()].flatMap((name) => ts.getPreEmitDiagnostics(program, program.getSourceFile(name)))
    .map((d) => `${d.file ? d.file.fileName.replace(`${root}/`, '') : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

function stacksOf(app: App): Stack[] {
  return app.node.findAll().filter((c): c is Stack => Stack.isStack(c));
}

const examples = appExamples();

test('the README has the complete examples this test runs', () => {
  // RealtimeWafGuard usage, its blockRules snippet, two ElasticWafMonitor examples, WafReporting usage.
  expect(examples.length).toBeGreaterThanOrEqual(5);
});

test('they type-check against the package\'s source', () => {
  // A control in the same program: a prop of the wrong type must be reported, or the check checks nothing.
  const control: Example = {
    line: 0,
    code: "import { Stack } from 'aws-cdk-lib';\nimport { RealtimeWafGuard } from 'cdk-waf-guard';\n" +
      "new RealtimeWafGuard(new Stack(), 'Guard', { samplingRate: 'all' });\n",
  };
  const errors = typeErrors([...examples, control]);
  expect(errors.filter((e) => !e.startsWith('readme-example-line-0.ts:'))).toEqual([]);
  expect(errors).toEqual([expect.stringMatching(/^readme-example-line-0\.ts: Type 'string' is not assignable to type 'number'/)]);
});

describe.each(examples.map((e) => [e.line, e.code]))('README example at line %i', (_line, code) => {
  test('synthesizes without a warning (cdk synth --strict passes) under its default props', () => {
    const app = runExample(code as string);
    const warnings = stacksOf(app).flatMap((stack) => Annotations.fromStack(stack).findWarning('*', Match.anyValue()))
      .map((w) => `${w.id}: ${String(w.entry.data)}`);
    expect(warnings).toEqual([]);
  });
});
