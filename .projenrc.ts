import { awscdk, javascript } from 'projen';

// Passed through to esbuild for every handler. `minify` is an esbuild option the lambda options type does not list,
// so the object is built here rather than written inline.
const bundlingOptions = {
  // The Node.js 22 runtime ships AWS SDK v3; bundling it would only grow cold starts.
  externals: ['@aws-sdk/*'],
  sourcemap: false,
  // Smaller bundles load faster on a cold start; handlers match errors by their `name` property, not class names.
  minify: true,
  // The Elasticsearch client loads undici, apache-arrow and OpenTelemetry's attribute names up front; the collector uses
  // none of them (build-tools/bundle-stubs).
  esbuildArgs: {
    '--alias:undici': './build-tools/bundle-stubs/undici.js',
    '--alias:apache-arrow': './build-tools/bundle-stubs/apache-arrow',
    '--alias:@opentelemetry/semantic-conventions': './build-tools/bundle-stubs/semantic-conventions.js',
    // exceljs loads its streaming reader and writer (archiver, unzipper, tmp) and CSV support (fast-csv) up front; the
    // report handler only uses Workbook.xlsx.load() and writeBuffer(), which go through jszip.
    '--alias:archiver': './build-tools/bundle-stubs/exceljs-streaming.js',
    '--alias:unzipper': './build-tools/bundle-stubs/exceljs-streaming.js',
    '--alias:tmp': './build-tools/bundle-stubs/exceljs-streaming.js',
    '--alias:fast-csv': './build-tools/bundle-stubs/exceljs-streaming.js',
  },
};

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-waf-guard',
  description:
    'AWS CDK constructs that block abusive CloudFront clients within seconds from real-time logs, and watch WAF health from Elasticsearch.',
  author: 'cdk-waf-guard maintainers',
  authorAddress: 'maintainers@cdk-waf-guard.dev',
  repositoryUrl: 'https://github.com/cdk-waf-guard/cdk-waf-guard.git',
  homepage: 'https://github.com/cdk-waf-guard/cdk-waf-guard#readme',
  bugsUrl: 'https://github.com/cdk-waf-guard/cdk-waf-guard/issues',
  license: 'Apache-2.0',
  stability: 'experimental',
  keywords: ['awscdk', 'aws-cdk', 'cdk', 'waf', 'wafv2', 'cloudfront', 'kinesis', 'security', 'rate-limiting', 'elasticsearch'],
  cdkVersion: '2.200.0',
  constructsVersion: '10.5.1',
  defaultReleaseBranch: 'main',
  jsiiVersion: '~6.0.0',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  // Lambda handlers run on Node.js 22; the library, its build and the replay CLI need Node.js 20 or later.
  minNodeVersion: '20.0.0',
  // The release workflow's version bump (commit-and-tag-version 13) needs Node.js 22, the handlers' runtime too.
  workflowNodeVersion: '22.x',
  // .ci/run stays the local CI. The generated GitHub workflows only run once the repository is pushed to GitHub,
  // where they build every language package and publish them (secrets: NPM_TOKEN, TWINE_*, MAVEN_*, NUGET_API_KEY,
  // GO_GITHUB_TOKEN).
  github: true,
  release: true,
  publishToPypi: { distName: 'cdk-waf-guard', module: 'cdk_waf_guard' },
  publishToMaven: {
    javaPackage: 'io.github.cdkwafguard',
    mavenGroupId: 'io.github.cdkwafguard',
    mavenArtifactId: 'cdk-waf-guard',
  },
  publishToNuget: { dotNetNamespace: 'CdkWafGuard', packageId: 'CdkWafGuard' },
  // Go modules are served from a git repository: the release job pushes the generated module there.
  publishToGo: { moduleName: 'github.com/cdk-waf-guard/cdk-waf-guard-go', packageName: 'cdkwafguard' },

  lambdaOptions: {
    runtime: awscdk.LambdaRuntime.NODEJS_22_X,
    bundlingOptions,
  },

  devDeps: [
    // Listed so that minNodeVersion does not pin the types to Node.js 20 (projen's default); kept as before.
    '@types/node',
    // handler-only packages: bundled into assets/, never runtime dependencies of the library
    '@aws-sdk/client-dynamodb@^3',
    '@aws-sdk/lib-dynamodb@^3',
    '@aws-sdk/client-kinesis@^3',
    '@aws-sdk/client-wafv2@^3',
    '@aws-sdk/client-sns@^3',
    '@aws-sdk/client-secrets-manager@^3',
    '@aws-sdk/client-cloudwatch@^3',
    // the optional Timestream analytics sink and query detection
    '@aws-sdk/client-timestream-write@^3',
    '@aws-sdk/client-timestream-query@^3',
    // the `blocks` commands of the CLI, bundled into assets/cli (see below): caller identity and stack lookup
    '@aws-sdk/client-sts@^3',
    '@aws-sdk/client-cloudformation@^3',
    '@aws-sdk/client-sesv2@^3',
    '@aws-sdk/client-s3@^3',
    '@aws-sdk/client-cost-explorer@^3',
    // report handler: RFC 4180 CSV and the cost workbooks
    'csv-stringify@^6',
    'exceljs@^4.4.0',
    // the debugging widget invokes the checker functions
    '@aws-sdk/client-lambda@^3',
    '@smithy/node-http-handler@^4',
    '@aws-lambda-powertools/logger@^2',
    '@aws-lambda-powertools/metrics@^2',
    '@types/aws-lambda@^8',
    // Elasticsearch 8.x client: works against 8.x clusters and, with compatibility headers, 9.x ones; a 9.x client
    // refuses 8.x servers.
    '@elastic/elasticsearch@^8.19.0',
    // the monitor's collector signs requests to Amazon OpenSearch Service (and Serverless) with its role
    '@smithy/signature-v4@^5',
    '@aws-sdk/credential-provider-node@^3',
    // test-only: real local servers and mocks for services without one
    '@elastic/elasticsearch-mock@^2',
    'kinesalite@^3',
    'dynalite@^4',
    'aws-sdk-client-mock@^4',
    // test-only: model-based and property tests of the guard's promises
    'fast-check@^4',
    'cdk-nag@^2.36.8',
    's3rver@^3',
    'aws-ses-v2-local@^2',
    // test-only: the offline CloudFormation schema validator newer aws-cdk-lib releases synthesize with
    '@aws/cloudformation-validate@1.9.0-beta',
  ],

  // The replay CLI: runs on Node.js built-ins only (see src/cli).
  bin: { 'cdk-waf-guard': 'lib/cli/cdk-waf-guard.js' },

  tsconfigDevFile: 'tsconfig.dev.json',
  tsconfigDev: {
    include: ['.projenrc.ts', 'examples/**/*.ts', 'bench/**/*.ts'],
  },
  jestOptions: {
    jestConfig: {
      testTimeout: 60_000,
      // No gate reads the coverage report, and instrumenting every file slows the suite on CI's two cores by a
      // quarter: `npx jest --coverage` when you want it.
      collectCoverage: false,
    },
  },
});

// The npm mirror this project builds from lacks some platform bindings of newer unrs-resolver releases (an eslint
// resolver dependency); without this pin `npm ci` fails on a lockfile that cannot list them.
project.package.addField('overrides', { 'unrs-resolver': '1.12.2' });

// Shared runtime code of the handlers may import handler-only devDeps too.
project.eslint?.allowDevDeps('src/**/runtime/**');
// Bundled with the SDK into assets/cli (see the bundle below; rules-command goes in through blocks-command): never
// reached from the library or `replay`.
project.eslint?.allowDevDeps('src/cli/blocks-command.ts');
project.eslint?.allowDevDeps('src/cli/rules-command.ts');
project.eslint?.allowDevDeps('src/cli/dashboards-command.ts');
// Bundled with its dependencies for the CLI (assets/reporting/report-cli).
project.eslint?.allowDevDeps('src/reporting/report-cli.ts');
project.eslint?.allowDevDeps('examples/**');
project.eslint?.allowDevDeps('bench/**');
// The dev tsconfig lives at the root (tsconfig.dev.json) and covers src, test, examples and bench: lint with it.
const eslintrc = project.tryFindObjectFile('.eslintrc.json');
eslintrc?.addDeletionOverride('parserOptions.projectService');
eslintrc?.addOverride('parserOptions.project', './tsconfig.dev.json');

project.gitignore.exclude('cdk.out', '/examples/**/cdk.out');
// Test fixtures are log files on purpose.
project.gitignore.include('/test/cli/fixtures/*.log');
// What users install: the library, its assets and docs; not examples, benchmarks, scripts or synth output.
// build-tools/ only shapes the bundles at build time.
project.npmignore?.exclude('cdk.out', '/examples/', '/bench/', '/scripts/', '/docs/', '/.ci/', '/build-tools/');

// projen's package task builds every language locally (outside CI) through package-all; pip, Maven, dotnet and Go
// cannot download anything here, so a local build packages JavaScript only and checks the other languages' generated
// code. The GitHub workflows build and publish the real packages in their own jobs (package:python, package:java...).
const checkBindings = project.addTask('check:bindings', {
  description: 'Generate the Python, Java, .NET and Go bindings (code only) from the compiled assembly and check them',
  exec: 'node scripts/check-bindings.js',
});
project.packageTask.reset();
project.packageTask.spawn(project.tasks.tryFind('package:js')!);
project.packageTask.spawn(checkBindings);
// The packed tarball must install and synthesize in fresh apps on the minimum and the newest aws-cdk-lib, with the
// newest `cdk init` flags and cdk-nag 2 and 3, as users would use it.
project.packageTask.exec('node scripts/consumer-check.js');

// The CLI's `blocks` commands talk to AWS. The SDK is a devDependency, so they ship as one self-contained bundle that
// the CLI loads only when such a command runs: `replay` keeps working on Node.js built-ins alone.
project.bundler.addBundle('./src/cli/blocks-command.ts', {
  platform: 'node',
  target: 'node20',
  sourcemap: false,
  externals: [],
  minify: true,
});

// `dashboards export|import`: the saved-objects generator, the import client with its SigV4 signer and Secrets Manager,
// in one bundle loaded only by these commands, like `blocks`.
project.bundler.addBundle('./src/cli/dashboards-command.ts', {
  platform: 'node',
  target: 'node20',
  sourcemap: false,
  externals: [],
  minify: true,
});

// The `report --dry-run` CLI engine, with every dependency inside (AWS SDK included): CLI users have none of them.
project.bundler.addBundle('src/reporting/report-cli.ts', {
  platform: 'node',
  target: 'node20',
  externals: [],
  sourcemap: false,
  minify: true,
  esbuildArgs: bundlingOptions.esbuildArgs,
});

project.addTask('demo', {
  description: 'Run the main job locally: the guard on kinesalite and dynalite with generated traffic (see README)',
  exec: 'ts-node -T --project tsconfig.dev.json examples/local-demo/demo.ts',
  receiveArgs: true,
});
project.addTask('demo:monitor', {
  description: 'Replay three and a half hours of trouble against ElasticWafMonitor: its real collector on a cluster fake, its synthesized alarms evaluated as CloudWatch does',
  exec: 'ts-node -T --project tsconfig.dev.json examples/monitor-local-run/run.ts',
});
project.addTask('synth:example', {
  description: 'Synthesize the example CDK app',
  exec: 'ts-node --project tsconfig.dev.json examples/realtime-waf-guard/app.ts',
});
const bench = project.addTask('bench', {
  description: 'Print throughput, detection latency, DynamoDB units, bundle sizes and memory, and record them in docs/benchmarks.md',
});
// Bundle sizes and load times are measured on fresh bundles.
bench.spawn(project.tasks.tryFind('bundle')!);
bench.exec('ts-node -T --project tsconfig.dev.json bench/bench.ts --record', { receiveArgs: true });

project.synth();
