import { existsSync, readFileSync, statSync } from 'fs';
import { dirname, join, relative, resolve } from 'path';

/**
 * Reading the repository's Markdown as GitHub and npm show it: headings and their anchors, links, code blocks, and
 * which files the npm package ships (README.md is read on npmjs.com and Construct Hub, where a relative link into a
 * file the package leaves out is dead).
 */

/** Where links into files the package does not ship must point. */
export const REPOSITORY_URL = 'https://github.com/cdk-waf-guard/cdk-waf-guard';

/** A heading's anchor as GitHub makes it (before the `-1`, `-2` of repeated headings). */
export function githubSlug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** Each line of the document, with whether it lies inside a fenced code block (fence lines included). */
function linesWithFences(markdown: string): { text: string; inCode: boolean }[] {
  let fence: string | undefined;
  return markdown.split('\n').map((text) => {
    const opening = /^\s*(```|~~~)/.exec(text);
    if (fence === undefined && opening) {
      fence = opening[1];
      return { text, inCode: true };
    }
    if (fence !== undefined) {
      if (text.trim().startsWith(fence) && text.trim().replace(/[`~]/g, '') === '') fence = undefined;
      return { text, inCode: true };
    }
    return { text, inCode: false };
  });
}

/** The anchors a document's headings (and HTML `id`/`name` attributes) define. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text, inCode } of linesWithFences(markdown)) {
    if (inCode) continue;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (heading) {
      const slug = githubSlug(heading[1]);
      const count = seen.get(slug) ?? 0;
      seen.set(slug, count + 1);
      anchors.add(count === 0 ? slug : `${slug}-${count}`);
    }
    for (const m of text.matchAll(/<a\s[^>]*(?:id|name)="([^"]+)"/g)) anchors.add(m[1]);
  }
  return anchors;
}

export interface MarkdownLink {
  readonly line: number;
  readonly target: string;
}

/** Inline links and images, reference definitions and HTML `href`/`src`, outside code blocks and code spans. */
export function linksOf(markdown: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  linesWithFences(markdown).forEach(({ text, inCode }, i) => {
    if (inCode) return;
    const prose = text.replace(/`[^`]*`/g, (span) => ' '.repeat(span.length));
    const add = (target: string) => links.push({ line: i + 1, target });
    for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) add(m[1]);
    for (const m of prose.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/g)) add(m[1]);
    for (const m of prose.matchAll(/\s(?:href|src)="([^"]+)"/g)) add(m[1]);
  });
  return links;
}

/** Whether `.npmignore` (gitignore syntax, the last matching line wins) leaves a repository path out of the package. */
export function npmIgnores(npmignore: string, path: string, isDirectory: (path: string) => boolean = () => false): boolean {
  const parts = path.split('/').filter(Boolean);
  // the path itself and each directory above it: a pattern that excludes a directory excludes what it holds
  const candidates = parts.map((_, i) => ({ path: parts.slice(0, i + 1).join('/'), isDir: i < parts.length - 1 }));
  let ignored = false;
  for (const raw of npmignore.split('\n')) {
    let line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const negated = line.startsWith('!');
    if (negated) line = line.slice(1);
    const dirOnly = line.endsWith('/');
    if (dirOnly) line = line.slice(0, -1);
    const anchored = line.includes('/');
    if (line.startsWith('/')) line = line.slice(1);
    const glob = line.replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*\*\//g, '\u0000').replace(/\*\*/g, '\u0001').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')
      .replace(/\u0000/g, '(?:.*/)?').replace(/\u0001/g, '.*');
    const pattern = new RegExp(anchored ? `^${glob}$` : `(?:^|/)${glob}$`);
    const matches = candidates.some((c) => (!dirOnly || c.isDir || isDirectory(c.path)) && pattern.test(c.path));
    if (matches) ignored = !negated;
  }
  return ignored;
}

export interface LinkCheckOptions {
  /** The repository's root directory. */
  readonly root: string;
  /** The `.npmignore` text. */
  readonly npmignore: string;
  /** Reads a repository file (relative path), undefined when it does not exist. */
  readonly read?: (path: string) => string | undefined;
}

/**
 * The broken links of one repository file: an anchor no heading defines (in this file or in another Markdown file
 * of the repository), a relative link or repository URL to a path that does not exist, and, in a file the npm package
 * ships, a relative link into a file the package does not ship.
 */
export function linkProblems(file: string, markdown: string, options: LinkCheckOptions): string[] {
  const isDirectoryPath = (p: string) => existsSync(join(options.root, p)) && statSync(join(options.root, p)).isDirectory();
  const read = options.read ?? ((p: string) => {
    const full = join(options.root, p);
    return existsSync(full) && statSync(full).isFile() ? readFileSync(full, 'utf8') : undefined;
  });
  const exists = (p: string) => p === '' || read(p) !== undefined || isDirectoryPath(p);
  const shipped = !npmIgnores(options.npmignore, file, isDirectoryPath);
  const problems: string[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchorsIn = (path: string) => {
    if (!anchorCache.has(path)) anchorCache.set(path, anchorsOf(path === file ? markdown : read(path) ?? ''));
    return anchorCache.get(path)!;
  };
  const checkAnchor = (where: string, path: string, anchor: string | undefined) => {
    if (anchor === undefined || !path.endsWith('.md')) return;
    if (!anchorsIn(path).has(decodeURIComponent(anchor))) problems.push(`${where}: ${path} has no heading with the anchor #${anchor}`);
  };
  const repoLink = new RegExp(`^${REPOSITORY_URL.replace(/[.]/g, '\\.')}/(?:blob|tree|raw)/main/([^#?]*)(?:\\?[^#]*)?(?:#(.*))?$`);
  for (const { line, target } of linksOf(markdown)) {
    const where = `${file}:${line} (${target})`;
    const inRepo = repoLink.exec(target);
    if (inRepo) {
      const path = decodeURIComponent(inRepo[1]).replace(/\/$/, '');
      if (!exists(path)) problems.push(`${where}: ${path} is not in the repository`);
      else checkAnchor(where, path, inRepo[2]);
      continue;
    }
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // another site, mailto:
    const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
    const path = pathPart === '' ? file : relative(options.root, resolve(options.root, dirname(file), decodeURIComponent(pathPart)));
    if (path.startsWith('..')) {
      problems.push(`${where}: points outside the repository`);
      continue;
    }
    if (!exists(path)) {
      problems.push(`${where}: ${path} does not exist`);
      continue;
    }
    if (shipped && npmIgnores(options.npmignore, path, isDirectoryPath)) {
      problems.push(`${where}: the npm package does not ship ${path}: link to ${REPOSITORY_URL}/blob/main/${path}`);
      continue;
    }
    checkAnchor(where, path, anchor);
  }
  return problems;
}

export interface CodeBlock {
  readonly line: number;
  readonly language: string;
  readonly code: string;
  /** Preceded by `<!-- fragment -->` (or `<!-- fragment: why -->`): a piece of a program, not meant to compile alone. */
  readonly fragment: boolean;
  /** The nearest heading above the block. */
  readonly heading: string;
}

/** The fenced code blocks of a document. */
export function codeBlocksOf(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const opening = /^(\s*)(```|~~~)\s*([\w+-]*)/.exec(lines[i]);
    if (!opening) {
      const h = /^#{1,6}\s+(.*?)\s*$/.exec(lines[i]);
      if (h) heading = h[1];
      continue;
    }
    const [, indent, fence, language] = opening;
    let end = i + 1;
    while (end < lines.length && !(lines[end].trim().startsWith(fence) && lines[end].trim().replace(/[`~]/g, '') === '')) end++;
    let before = i - 1;
    while (before >= 0 && lines[before].trim() === '') before--;
    blocks.push({
      line: i + 1,
      language,
      code: lines.slice(i + 1, end).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l)).join('\n'),
      fragment: before >= 0 && /^<!-- fragment(?::[^>]*)? -->$/.test(lines[before].trim()),
      heading,
    });
    i = end;
  }
  return blocks;
}
