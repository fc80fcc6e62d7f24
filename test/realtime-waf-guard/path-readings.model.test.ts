import fc from 'fast-check';
import { StoredRule } from '../../src/realtime-waf-guard/rule-model';
import { RuleMatcher } from '../../src/realtime-waf-guard/runtime/detector';

/**
 * A model of the promise of path rules: a request counts against a `/login` rule exactly when some origin the guard
 * stands for would route it under `/login`. The origins are written here, segment by segment, independently of the
 * guard's readings (which work on whole strings), from how each server resolves a path:
 * - nginx: decode each `%XX` once, then merge `//` and resolve `.` and `..`; `;` is an ordinary character;
 * - IIS (and nginx on Windows): the same with `\` a separator too;
 * - an origin that maps the decoded path to a key or file, resolving nothing;
 * - WHATWG URL parsing: `.`/`%2e` and `..`/`%2e%2e` segments resolved, empty segments kept, then decoded;
 * - Tomcat (and Spring and Jetty like it): `;` up to the end of each segment removed before decoding, then decoded
 *   once, `//` merged, `.` and `..` resolved;
 * - stacks that decode twice: decoded, then decoded again, then resolved;
 * - a proxy that decodes (and one that decodes and resolves, like nginx) in front of Tomcat, of IIS or of an origin
 *   that decodes again;
 * and each of them also as a case-insensitive origin (IIS, ASP.NET, Express by default) when the rule ignores case,
 * comparing as Java's equalsIgnoreCase does (Tomcat, Spring): per code point, upper case then lower case.
 */

const PREFIX = '/login';

function decodeOnce(path: string): string {
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const hex = path.slice(i + 1, i + 3);
    if (path[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      out += String.fromCharCode(parseInt(hex, 16));
      i += 2;
    } else {
      out += path[i];
    }
  }
  return out;
}

/** Resolves segments; `mergeEmpty` drops empty segments (merged slashes). */
function resolveSegments(segments: string[], isDot: (s: string) => boolean, isDotDot: (s: string) => boolean, mergeEmpty: boolean): string[] {
  const out: string[] = [];
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (isDotDot(segment)) {
      out.pop();
      if (last) out.push('');
    } else if (isDot(segment)) {
      if (last) out.push('');
    } else if (segment !== '' || last || !mergeEmpty) {
      out.push(segment);
    }
  });
  return out;
}

const segmentsOf = (path: string) => path.split('/').slice(1);
const join = (segments: string[]) => `/${segments.join('/')}`;

const nginx = (path: string) => join(resolveSegments(segmentsOf(decodeOnce(path)), (s) => s === '.', (s) => s === '..', true));
const keyMapper = (path: string) => decodeOnce(path);
const whatwg = (path: string) => decodeOnce(join(resolveSegments(
  segmentsOf(path), (s) => /^(\.|%2e)$/i.test(s), (s) => /^(\.|%2e){2}$/i.test(s), false,
)));
const iis = (path: string) => join(resolveSegments(segmentsOf(decodeOnce(path).split('\\').join('/')), (s) => s === '.', (s) => s === '..', true));
const tomcat = (path: string) => nginx(join(segmentsOf(path).map((s) => (s.includes(';') ? s.slice(0, s.indexOf(';')) : s))));
const doubleDecoder = (path: string) => nginx(decodeOnce(path));
const decodingProxyThenTomcat = (path: string) => tomcat(decodeOnce(path));
const nginxThenTomcat = (path: string) => tomcat(nginx(path));
const nginxThenDecoder = (path: string) => nginx(nginx(path));
const decodingProxyThenIis = (path: string) => iis(decodeOnce(path));
const nginxThenIis = (path: string) => iis(nginx(path));

const ORIGINS = [
  nginx, iis, keyMapper, whatwg, tomcat, doubleDecoder, decodingProxyThenTomcat, nginxThenTomcat, nginxThenDecoder,
  decodingProxyThenIis, nginxThenIis,
];

/**
 * Java's Character.toUpperCase and toLowerCase of one code point: JavaScript's mapping where it is one code point too,
 * the character itself where JavaScript's has more (`ß`), and the one exception, `İ`, whose simple lower case is `i`.
 */
const javaUpper = (c: string) => ([...c.toUpperCase()].length === 1 ? c.toUpperCase() : c);
const javaLower = (c: string) => (c === '\u0130' ? 'i' : [...c.toLowerCase()].length === 1 ? c.toLowerCase() : c);

/** Case-insensitive origins compare the text the bytes encode as equalsIgnoreCase does, code point by code point. */
const lower = (latin1: string) => Buffer.from(
  [...Buffer.from(latin1, 'latin1').toString('utf8')].map((c) => javaLower(javaUpper(c))).join(''), 'utf8',
).toString('latin1');

function routedUnderPrefix(path: string, ignoreCase: boolean): boolean {
  return ORIGINS.some((origin) => {
    const resolved = origin(path);
    return resolved.startsWith(PREFIX) || (ignoreCase && lower(resolved).startsWith(PREFIX));
  });
}

const rule = (pathCaseSensitive: boolean): StoredRule => ({
  ruleId: 'login',
  host: 'www.example.com',
  pathPrefix: PREFIX,
  threshold: 10,
  windowSeconds: 60,
  blockSeconds: 600,
  action: 'BLOCK',
  enabled: true,
  ...(pathCaseSensitive ? { pathCaseSensitive: true } : {}),
});

/**
 * Letters that stand for `i` to a case-insensitive Java origin (`ı` dotless i, `İ`), and near misses that do not (`ï`),
 * as UTF-8 bytes, which a request line carries escaped.
 */
const I_LOOKALIKES = ['\u0131', '\u0130', '\u00ef'];

/** `login` with each letter in either case (`i` also as a look-alike), possibly escaped once or twice. */
const loginSpelling = fc.array(fc.tuple(fc.nat(I_LOOKALIKES.length + 1), fc.constantFrom('', '%', '%25')), { minLength: 5, maxLength: 5 }).map((choices) =>
  [...'login'].map((ch, i) => {
    const [letter, escape] = choices[i];
    const c = letter === 0 ? ch : letter === 1 || ch !== 'i' ? ch.toUpperCase() : I_LOOKALIKES[letter - 2];
    const bytes = [...Buffer.from(c, 'utf8')];
    if (escape === '' && bytes.length === 1) return c;
    return bytes.map((b) => `${escape === '' ? '%' : escape}${b.toString(16).toUpperCase()}`).join('');
  }).join(''));

const segment = fc.oneof(
  { weight: 4, arbitrary: loginSpelling },
  { weight: 4, arbitrary: fc.constantFrom('..', '.', '..;', '.;', '..;x=1', ';', ';x', ';jsessionid=1', '%2e', '%2E%2e', '%2e.', '%252e', '%252e%252e', '..%3B', '..%253B', '%3B', '%3Bx', '..\\..', '..%5C..', '..%255c..', '%255c', 'x%255C..') },
  { weight: 3, arbitrary: fc.constantFrom('x', 'admin', 'log', 'in', 'logout', '', 'a;b') },
  { weight: 2, arbitrary: fc.tuple(loginSpelling, fc.constantFrom(';x=1', ';', '%3B', '%253B', 'x', '/', '%255c', '%5C')).map(([a, b]) => `${a}${b}`) },
);

const pathArb = fc.array(segment, { minLength: 1, maxLength: 6 }).map((segments) => `/${segments.join('/')}`);

describe('path readings against a model of origins', () => {
  const runs = Number(process.env.MODEL_RUNS ?? 2000);

  test.each([false, true])('pathCaseSensitive %s: a request counts iff some origin routes it under /login', (pathCaseSensitive) => {
    const matcher = new RuleMatcher([rule(pathCaseSensitive)]);
    fc.assert(fc.property(pathArb, (path) => {
      const counted = matcher.match('www.example.com', { path }).length === 1;
      expect({ path, counted }).toEqual({ path, counted: routedUnderPrefix(path, !pathCaseSensitive) });
    }), { seed: Number(process.env.MODEL_SEED ?? 1707), numRuns: runs });
  });

  test('the generator reaches both answers and every kind of trick', () => {
    const samples = fc.sample(pathArb, { seed: 1707, numRuns: 2000 });
    const positives = samples.filter((p) => routedUnderPrefix(p, true)).length;
    expect(positives).toBeGreaterThan(200);
    expect(samples.length - positives).toBeGreaterThan(200);
    for (const trick of ['..;', '.;', '/;', '%25', '%2e', 'L', '%C4%B1', '%25C4%25B0', '%C3%AF', '%255c', '\\']) {
      expect(samples.some((p) => p.includes(trick))).toBe(true);
    }
    // the look-alikes of `i` are found under /login, and the near misses are not
    expect(samples.some((p) => /%(25)?C4%(25)?B[01]/.test(p) && routedUnderPrefix(p, true))).toBe(true);
    expect(samples.some((p) => /%(25)?C3%(25)?AF/.test(p) && !routedUnderPrefix(p, true) && routedUnderPrefix(p.replace(/%(25)?C3%(25)?AF/g, 'i'), true))).toBe(true);
  });
});
