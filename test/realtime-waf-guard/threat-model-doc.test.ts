import { readFileSync } from 'fs';
import { join } from 'path';

const ROOT = join(__dirname, '..', '..');

/**
 * Every (file, test name) the threat model cites: `file.ts` › "name", "describe" › "name"; names escape their inner
 * quotes (\"). A citation runs up to the next code span or the end of its table cell.
 */
function citations(doc: string): Array<{ file: string; name: string }> {
  const out: Array<{ file: string; name: string }> = [];
  for (const cite of doc.matchAll(/`([\w./-]+\.ts)` ›([^`|]*)/g)) {
    const file = cite[1].includes('/') ? cite[1] : `test/realtime-waf-guard/${cite[1]}`;
    for (const name of cite[2].matchAll(/"((?:[^"\\]|\\.)*)"/g)) out.push({ file, name: name[1].replace(/\\"/g, '"') });
  }
  return out;
}

test('every test the threat model names exists, by that name, in the file it names', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'threat-model.md'), 'utf8');
  const cited = citations(doc);
  // Enough citations were read for the check to mean something (the tables cite well over a hundred).
  expect(cited.length).toBeGreaterThan(100);
  const missing = cited.filter(({ file, name }) => {
    // Test names in the source may escape the quote that delimits them.
    const source = readFileSync(join(ROOT, file), 'utf8').replace(/\\(['"`])/g, '$1');
    return !source.includes(name);
  });
  expect(missing).toEqual([]);
});
