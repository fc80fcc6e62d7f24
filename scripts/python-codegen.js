#!/usr/bin/env node
// Generates the Python bindings from the compiled assembly (code only: wheels cannot be built offline) and parses
// them, so jsii naming problems show up before a Python user meets them. Run after `npx projen compile`.
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-waf-guard-python-'));
for (const f of ['.jsii', 'package.json', 'README.md', 'LICENSE']) fs.copyFileSync(path.join(root, f), path.join(work, f));
fs.cpSync(path.join(root, 'lib'), path.join(work, 'lib'), { recursive: true });
fs.symlinkSync(path.join(root, 'node_modules'), path.join(work, 'node_modules'));
const assembly = JSON.parse(fs.readFileSync(path.join(work, '.jsii'), 'utf8'));
assembly.targets.python = { distName: 'cdk-waf-guard', module: 'cdk_waf_guard' };
fs.writeFileSync(path.join(work, '.jsii'), JSON.stringify(assembly));
const out = path.join(work, 'out');
execFileSync(path.join(root, 'node_modules', '.bin', 'jsii-pacmak'), ['--code-only', '--targets', 'python', '-o', out], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
const init = path.join(out, 'python', 'src', 'cdk_waf_guard', '__init__.py');
execFileSync('python3', ['-c', `import ast,sys; t=ast.parse(open(sys.argv[1]).read()); print(len([n for n in t.body if isinstance(n, ast.ClassDef)]), 'Python classes generated and parsed')`, init], { stdio: 'inherit' });
fs.rmSync(work, { recursive: true, force: true });
