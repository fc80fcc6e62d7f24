#!/usr/bin/env node
// Installs the packed tarball into fresh CDK apps, as users do, and fails (exit 1) on anything a user would hit:
// - minimum aws-cdk-lib: the package is missing files, requires a devDependency, or does not synthesize; the replay
//   CLI (the package's bin) does not run on the package's own dependencies;
// - newest aws-cdk-lib with the context `cdk init` writes: a CloudFormation schema violation, a cdk-nag 2 or 3
//   finding on the library's resources, an error annotation of the library, or a function in a VPC that cannot be
//   created (see consumer-check/latest-app.js), in several configurations of every construct.
// Each aws-cdk-lib version gets one temp dir, reused by later runs so that only the tarball is reinstalled.
const { execFileSync, spawnSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const started = Date.now();
const root = path.join(__dirname, '..');
const pkg = require(path.join(root, 'package.json'));
const tarball = path.join(root, 'dist', 'js', `${pkg.name}@${pkg.version}.jsii.tgz`);
if (!fs.existsSync(tarball)) {
  fail(`${tarball} not found; run the package task first`);
}
const NPM_INSTALL = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];
// Outside the repository, or Node would resolve what the package forgot to declare from the repository's own
// node_modules. Keyed by checkout so that builds of several worktrees do not install into the same dir at once.
const cacheBase = path.join(os.tmpdir(), `cdk-waf-guard-consumer-${crypto.createHash('sha256').update(root).digest('hex').slice(0, 8)}`);

function fail(message) {
  console.error(`consumer-check: ${message}`);
  process.exit(1);
}

/** A consumer dir with these dependencies and the freshly packed library; returns its path. */
function consumerDir(cdkVersion, dependencies) {
  const dir = `${cacheBase}-aws-cdk-lib-${cdkVersion}`;
  fs.mkdirSync(dir, { recursive: true });
  if (!fs.existsSync(path.join(dir, 'package.json'))) {
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  }
  // The tarball's version never changes (0.0.0): remove the installed copy so npm cannot keep a stale one.
  fs.rmSync(path.join(dir, 'node_modules', pkg.name), { recursive: true, force: true });
  fs.rmSync(path.join(dir, 'cdk.out'), { recursive: true, force: true });
  execFileSync('npm', [...NPM_INSTALL, `aws-cdk-lib@${cdkVersion}`, ...dependencies, tarball], { cwd: dir, stdio: 'inherit' });
  return dir;
}

function copyApp(dir, name) {
  fs.copyFileSync(path.join(__dirname, 'consumer-check', name), path.join(dir, name));
}

// ---- minimum aws-cdk-lib: the version the library is built and tested with
const minimumCdk = pkg.devDependencies['aws-cdk-lib'];
const minimumDir = consumerDir(minimumCdk, [`constructs@${pkg.devDependencies.constructs}`]);
copyApp(minimumDir, 'minimum-app.js');
execFileSync('node', ['minimum-app.js'], { cwd: minimumDir, stdio: 'inherit' });
// The replay CLI ships as the package's bin and must run with the package's own (runtime) dependencies only.
const fixtures = path.join(root, 'test', 'cli', 'fixtures');
const replay = execFileSync(path.join(minimumDir, 'node_modules', '.bin', 'cdk-waf-guard'),
  ['replay', '--rules', path.join(fixtures, 'rules.json'), path.join(fixtures, 'traffic.log.gz')], { cwd: minimumDir, encoding: 'utf8' });
if (!/would block 1 client/.test(replay)) fail(`unexpected replay report:\n${replay}`);
console.log(`consumer-check: aws-cdk-lib ${minimumCdk}: the packed library installs and synthesizes in a fresh app; the replay CLI runs`);

// ---- newest aws-cdk-lib, as a new user has it. Resolved here (not by `npm install @latest`, which --prefer-offline may
// answer from a stale cache) so the dir is named by the version it holds.
const latestCdk = execFileSync('npm', ['view', 'aws-cdk-lib@latest', 'version'], { encoding: 'utf8' }).trim();
const latestDir = consumerDir(latestCdk, ['constructs@^10', 'cdk-nag@^3', 'cdk-nag2@npm:cdk-nag@^2']);
copyApp(latestDir, 'latest-app.js');
// `cdk init` writes aws-cdk-lib's recommended flags into cdk.json: the CLI copies recommended-feature-flags.json, the
// file CURRENTLY_RECOMMENDED_FLAGS is read from, at its build (aws-cdk-cli, lib/commands/init/init.ts,
// applyFutureFlags). NEW_PROJECT_DEFAULT_CONTEXT is only the non-boolean subset of it.
const flags = JSON.parse(execFileSync('node', ['-p',
  "const c = require('aws-cdk-lib/cx-api'); JSON.stringify({ flags: c.CURRENTLY_RECOMMENDED_FLAGS, cli: [c.PATH_METADATA_ENABLE_CONTEXT, c.ASSET_RESOURCE_METADATA_ENABLED_CONTEXT, c.ANALYTICS_REPORTING_ENABLED_CONTEXT] })"],
{ cwd: latestDir, encoding: 'utf8' }));
if (flags.flags['@aws-cdk/core:validateAgainstDefaultRules'] !== true) {
  fail(`aws-cdk-lib ${latestCdk} no longer recommends @aws-cdk/core:validateAgainstDefaultRules; revisit this check`);
}
fs.writeFileSync(path.join(latestDir, 'cdk.json'), JSON.stringify({ app: 'node latest-app.js', context: flags.flags }, undefined, 2));
// What `cdk synth` does with that cdk.json: its context, plus the CLI's defaults (path and asset metadata, version
// reporting), reach the app as CDK_CONTEXT_JSON, and the output dir as CDK_OUTDIR.
const context = { ...JSON.parse(fs.readFileSync(path.join(latestDir, 'cdk.json'), 'utf8')).context };
for (const key of flags.cli) context[key] = true;
const resultFile = path.join(latestDir, 'consumer-check-result.json');
fs.rmSync(resultFile, { force: true });
const run = spawnSync('node', ['latest-app.js'], {
  cwd: latestDir,
  encoding: 'utf8',
  env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: path.join(latestDir, 'cdk.out'), CONSUMER_CHECK_RESULT: resultFile },
  maxBuffer: 64 * 1024 * 1024,
});
// CDK prints its validation report itself; the app's result file has the same findings, classified.
if (!fs.existsSync(resultFile)) fail(`the consumer app crashed (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
const { problems, notes, summary } = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
for (const note of notes) console.log(`consumer-check: note: ${note}`);
const versions = `aws-cdk-lib ${summary.cdkLib}, cdk-nag ${summary.nag2} and ${summary.nag3}`;
const counts = `${summary.configurations.length} configurations (${summary.configurations.join(', ')}), ${summary.stacks} stacks, ` +
  `${summary.libraryConstructs} library constructs, ${summary.libraryResources} of ${summary.resources} resources from the library`;
const seconds = Math.round((Date.now() - started) / 1000);
if (problems.length > 0) {
  console.error(`consumer-check: ${problems.length} problem(s) a user of ${versions} with the flags of \`cdk init\` would hit:`);
  for (const problem of problems) console.error(`  - ${problem}`);
  fail(`FAILED: ${versions}: ${counts}: ${problems.length} problem(s) (${Object.entries(summary.findings).map(([k, n]) => `${k} ${n}`).join(', ')}); ${seconds} s`);
}
console.log(`consumer-check: ${versions}: ${counts}: 0 schema violations, 0 unsuppressed findings; ${seconds} s`);

// ---- the README's quick start, pasted into the newest aws-cdk-lib app with `cdk init`'s flags, must pass
// `cdk synth --strict`: no warning and no error in the cloud assembly.
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const quickStart = /^## Quick start\n[\s\S]*?^```ts\n([\s\S]*?)^```$/m.exec(readme);
if (!quickStart) fail('README.md has no TypeScript block under "## Quick start"');
const ts = require('typescript');
fs.writeFileSync(path.join(latestDir, 'quick-start.js'), ts.transpileModule(quickStart[1], {
  compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
}).outputText);
const quickOut = path.join(latestDir, 'cdk.out.quick-start');
fs.rmSync(quickOut, { recursive: true, force: true });
const quick = spawnSync('node', ['quick-start.js'], {
  cwd: latestDir,
  encoding: 'utf8',
  env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: quickOut },
});
if (quick.status !== 0) fail(`the README's quick start does not run on aws-cdk-lib ${latestCdk}:\n${quick.stdout}\n${quick.stderr}`);
const manifest = JSON.parse(fs.readFileSync(path.join(quickOut, 'manifest.json'), 'utf8'));
const strict = Object.entries(manifest.artifacts ?? {}).flatMap(([artifact, a]) => Object.entries(a.metadata ?? {})
  .flatMap(([where, entries]) => entries.filter((e) => e.type === 'aws:cdk:warning' || e.type === 'aws:cdk:error')
    .map((e) => `${artifact}${where}: ${e.type}: ${e.data}`)));
if (strict.length > 0) fail(`the README's quick start fails \`cdk synth --strict\` on aws-cdk-lib ${latestCdk}:\n  ${strict.join('\n  ')}`);
const quickStacks = Object.values(manifest.artifacts ?? {}).filter((a) => a.type === 'aws:cloudformation:stack').length;
console.log(`consumer-check: the README's quick start synthesizes on aws-cdk-lib ${latestCdk} with \`cdk init\`'s flags: ${quickStacks} stack, no warning (cdk synth --strict passes)`);
