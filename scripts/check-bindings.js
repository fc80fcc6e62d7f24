#!/usr/bin/env node
// The Python, Java, .NET and Go packages are built and published by the GitHub release workflow only: pip, Maven,
// dotnet and Go cannot download anything in this build environment. This check generates their code (jsii-pacmak
// --code-only) from the compiled assembly instead, so that a jsii naming problem, a dropped target or a type missing
// from one language fails the local build rather than a release. Run after `npx projen compile`.
//
// For every language: the target is configured in the assembly, the package coordinates are the published ones, and
// every public type of the assembly (class, interface, struct, enum) has a declaration. Python is also parsed.
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const started = Date.now();
const root = path.join(__dirname, '..');
const assembly = JSON.parse(fs.readFileSync(path.join(root, '.jsii'), 'utf8'));
const targets = assembly.targets ?? {};
const LANGUAGES = ['python', 'java', 'dotnet', 'go'];

const failures = [];
const fail = (message) => failures.push(message);

const missingTargets = LANGUAGES.filter((l) => !targets[l]);
if (missingTargets.length > 0) {
  console.error(`check-bindings: no ${missingTargets.join(', ')} target in .jsii (publishTo* options in .projenrc.ts)`);
  process.exit(1);
}

const types = Object.values(assembly.types ?? {}).map((t) => ({
  name: t.name,
  fqn: t.fqn,
  kind: t.kind === 'interface' ? (t.datatype ? 'struct' : 'interface') : t.kind,
}));
if (types.length === 0) {
  console.error('check-bindings: the assembly has no public types');
  process.exit(1);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-waf-guard-bindings-'));
const out = path.join(work, 'out');
try {
  // Same generator and options as the release jobs' package:<language> tasks, minus building the packages.
  execFileSync(path.join(root, 'node_modules', '.bin', 'jsii-pacmak'),
    ['--code-only', '--targets', ...LANGUAGES, '-o', out],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const summary = LANGUAGES.map((language) => checkLanguage(language, path.join(out, language)));
  if (failures.length > 0) {
    for (const f of failures) console.error(`check-bindings: ${f}`);
    process.exit(1);
  }
  console.log(`check-bindings: ${types.length} public types declared in ${summary.join(', ')} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}

function checkLanguage(language, dir) {
  if (!fs.existsSync(dir)) {
    fail(`${language}: jsii-pacmak generated nothing in ${path.relative(work, dir)}`);
    return `${language}: none`;
  }
  const files = walk(dir);
  const read = (ext) => files.filter((f) => f.endsWith(ext)).map((f) => ({ file: f, text: fs.readFileSync(f, 'utf8') }));
  switch (language) {
    case 'python': return checkPython(dir, files);
    case 'java': return checkDeclarations('Java', read('.java'), (t) => [`(class|interface|enum)\\s+${t.name}\\b`], () => {
      const pom = readOne(files, 'pom.xml');
      expect(pom, `<groupId>${targets.java.maven.groupId}</groupId>`, 'Java pom.xml groupId');
      expect(pom, `<artifactId>${targets.java.maven.artifactId}</artifactId>`, 'Java pom.xml artifactId');
      return read('.java').filter((s) => s.text.includes(`package ${targets.java.package};`)).length;
    });
    case 'dotnet': return checkDeclarations('C#', read('.cs'), (t) => (t.kind === 'struct'
      // A struct becomes an interface IName plus a class Name implementing it.
      ? [`interface\\s+I${t.name}\\b`, `class\\s+${t.name}\\b`]
      : [`(class|interface|enum)\\s+${t.name}\\b`]), () => {
      const csproj = files.find((f) => f.endsWith('.csproj'));
      expect(csproj && fs.readFileSync(csproj, 'utf8'), `<PackageId>${targets.dotnet.packageId}</PackageId>`, '.NET package id');
      return read('.cs').filter((s) => s.text.includes(`namespace ${targets.dotnet.namespace}`)).length;
    });
    case 'go': return checkDeclarations('Go', read('.go'), (t) => [`^type\\s+${t.name}\\s`], () => {
      expect(readOne(files, 'go.mod'), `module ${targets.go.moduleName}/${targets.go.packageName}`, 'Go module path');
      return read('.go').filter((s) => new RegExp(`^package ${targets.go.packageName}$`, 'm').test(s.text)).length;
    });
  }
}

function checkPython(dir, files) {
  const sources = files.filter((f) => f.endsWith('.py'));
  const setup = readOne(files, 'setup.py');
  expect(setup, `"name": "${targets.python.distName}"`, 'Python dist name');
  // Parses every module and lists the classes each declares (enums and structs are classes in Python too).
  const script = [
    'import ast, json, sys',
    'names = set()',
    'for f in sys.argv[1:]:',
    '    tree = ast.parse(open(f, encoding="utf-8").read(), f)',
    '    names.update(n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef))',
    'print(json.dumps(sorted(names)))',
  ].join('\n');
  let declared;
  try {
    declared = new Set(JSON.parse(execFileSync('python3', ['-c', script, ...sources], { encoding: 'utf8' })));
  } catch (e) {
    fail(`Python: generated code does not parse: ${e.stderr || e.message}`);
    return 'Python: unparsable';
  }
  const moduleDir = path.join(dir, 'src', ...targets.python.module.split('.'));
  if (!fs.existsSync(path.join(moduleDir, '__init__.py'))) fail(`Python: no module ${targets.python.module}`);
  for (const t of types) if (!declared.has(t.name)) fail(`Python: no class ${t.name} (${t.fqn})`);
  return `Python (${sources.length} modules parsed)`;
}

function checkDeclarations(label, sources, patternsFor, checkCoordinates) {
  const inPackage = checkCoordinates();
  if (sources.length === 0) {
    fail(`${label}: no source files generated`);
    return `${label}: none`;
  }
  if (inPackage === 0) fail(`${label}: no source file in the configured package/namespace`);
  for (const t of types) {
    for (const pattern of patternsFor(t)) {
      const re = new RegExp(pattern, 'm');
      if (!sources.some((s) => re.test(s.text))) fail(`${label}: no declaration /${pattern}/ for ${t.fqn}`);
    }
  }
  return `${label} (${sources.length} files)`;
}

function readOne(files, basename) {
  const f = files.find((x) => path.basename(x) === basename);
  return f ? fs.readFileSync(f, 'utf8') : undefined;
}

function expect(text, needle, what) {
  if (!text || !text.includes(needle)) fail(`${what}: expected ${needle}`);
}

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : [p];
  });
}
