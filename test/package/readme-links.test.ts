import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { anchorsOf, githubSlug, linkProblems, npmIgnores, REPOSITORY_URL } from '../support/markdown';

/**
 * README.md is read on npmjs.com and Construct Hub, from the package: a relative link into a file the package does not
 * ship (docs/, examples/, src/, test/ ...) is dead there, and a link to a heading that was renamed or moved is dead
 * everywhere.
 */
const ROOT = join(__dirname, '..', '..');
const npmignore = readFileSync(join(ROOT, '.npmignore'), 'utf8');
const documents = ['README.md', 'CONTRIBUTING.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

test.each(documents)('%s has no dead link', (file) => {
  expect(linkProblems(file, readFileSync(join(ROOT, file), 'utf8'), { root: ROOT, npmignore })).toEqual([]);
});

test('the README and CONTRIBUTING.md ship in the package, docs/ and examples/ do not', () => {
  expect(npmIgnores(npmignore, 'README.md')).toBe(false);
  expect(npmIgnores(npmignore, 'CONTRIBUTING.md')).toBe(false);
  expect(npmIgnores(npmignore, 'API.md')).toBe(false);
  expect(npmIgnores(npmignore, 'lib/index.js')).toBe(false);
  expect(npmIgnores(npmignore, 'docs/guard-internals.md')).toBe(true);
  expect(npmIgnores(npmignore, 'examples/reporting/app.ts')).toBe(true);
  expect(npmIgnores(npmignore, 'src/index.ts')).toBe(true);
  expect(npmIgnores(npmignore, 'test/package/readme-links.test.ts')).toBe(true);
});

describe('the link check', () => {
  const files: Record<string, string> = {
    'README.md': '# Title\n\n## Usage\n\n## Usage\n\n### `npx x replay` — what it does\n',
    'docs/notes.md': '# Notes\n\n## Counting and its cost\n',
    'examples/app/main.ts': '',
  };
  const check = (file: string, markdown: string) =>
    linkProblems(file, markdown, { root: '/nonexistent', npmignore, read: (p) => (p === file ? markdown : files[p]) });

  test('refuses a relative link from a shipped file into a path the package leaves out, and names the fix', () => {
    const problems = check('README.md', `${files['README.md']}\nSee [notes](docs/notes.md#counting-and-its-cost) and [the app](examples/app/main.ts).\n`);
    expect(problems).toEqual([
      `README.md:9 (docs/notes.md#counting-and-its-cost): the npm package does not ship docs/notes.md: link to ${REPOSITORY_URL}/blob/main/docs/notes.md`,
      `README.md:9 (examples/app/main.ts): the npm package does not ship examples/app/main.ts: link to ${REPOSITORY_URL}/blob/main/examples/app/main.ts`,
    ]);
  });

  test('accepts the same targets as repository links, and relative links between files that are not shipped', () => {
    expect(check('README.md', `See [notes](${REPOSITORY_URL}/blob/main/docs/notes.md#counting-and-its-cost).\n`)).toEqual([]);
    expect(check('docs/notes.md', `${files['docs/notes.md']}[back](../README.md#usage), [here](#counting-and-its-cost)\n`)).toEqual([]);
  });

  test('refuses anchors no heading defines, in the file itself, in another file and behind a repository link', () => {
    const problems = check('docs/notes.md', [
      '[a](#counting)', '[b](../README.md#usage-2)', `[c](${REPOSITORY_URL}/blob/main/docs/notes.md#nope)`,
      `[d](${REPOSITORY_URL}/blob/main/docs/missing.md)`, '[e](../README.md#npx-x-replay--what-it-does)', '[f](../README.md#usage-1)',
    ].join('\n'));
    expect(problems).toEqual([
      'docs/notes.md:1 (#counting): docs/notes.md has no heading with the anchor #counting',
      'docs/notes.md:2 (../README.md#usage-2): README.md has no heading with the anchor #usage-2',
      `docs/notes.md:3 (${REPOSITORY_URL}/blob/main/docs/notes.md#nope): docs/notes.md has no heading with the anchor #nope`,
      `docs/notes.md:4 (${REPOSITORY_URL}/blob/main/docs/missing.md): docs/missing.md is not in the repository`,
    ]);
  });

  test('ignores links inside code blocks and code spans', () => {
    expect(check('README.md', '```md\n[x](docs/notes.md)\n```\nUse `[x](#nowhere)` in Markdown.\n')).toEqual([]);
  });

  test('makes anchors as GitHub does', () => {
    expect(githubSlug('`npx cdk-waf-guard replay` — what the guard would do on your logs'))
      .toBe('npx-cdk-waf-guard-replay--what-the-guard-would-do-on-your-logs');
    expect(githubSlug('Why not WAF\'s rate-based rule alone?')).toBe('why-not-wafs-rate-based-rule-alone');
    expect(githubSlug('Metrics (namespace `WafGuard/Elastic`, dimension `Cluster`)')).toBe('metrics-namespace-wafguardelastic-dimension-cluster');
    expect([...anchorsOf('## Props\n\n```\n## Not a heading\n```\n## Props\n')]).toEqual(['props', 'props-1']);
  });
});
