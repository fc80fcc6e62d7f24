import * as fs from 'fs';
import * as path from 'path';

/**
 * Users install the library with its peer dependencies only: handler packages (@aws-sdk/*, Powertools, the
 * Elasticsearch client) are bundled into assets/ and must never be required by the construct code itself.
 */
test('the entry point loads without any devDependency', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8'));
  const allowed = new Set([...Object.keys(pkg.peerDependencies ?? {}), ...Object.keys(pkg.dependencies ?? {})]);
  const forbidden = Object.keys(pkg.devDependencies).filter((name) => !allowed.has(name));
  expect(forbidden).toEqual(expect.arrayContaining(['@aws-sdk/client-dynamodb', '@elastic/elasticsearch']));
  const loaded: string[] = [];
  jest.isolateModules(() => {
    for (const name of forbidden) {
      jest.doMock(name, () => {
        loaded.push(name);
        return {};
      }, { virtual: true });
    }
    // a require inside isolateModules is what makes the mocks above apply to this load only
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const lib = require('../../src');
    expect(typeof lib.RealtimeWafGuard).toBe('function');
  });
  expect(loaded).toEqual([]);
});
