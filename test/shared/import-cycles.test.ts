import * as fs from 'fs';
import * as path from 'path';

const SRC = path.join(__dirname, '..', '..', 'src');

/** Relative imports of every TypeScript file under `src/`, resolved to file paths (type-only imports included). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const visit = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) graph.set(full, importsOf(full));
    }
  };
  visit(SRC);
  return graph;
}

function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const targets: string[] = [];
  for (const match of text.matchAll(/^(?:import|export)\b[^;]*?from\s+'(\.{1,2}\/[^']+)'/gms)) {
    const base = path.resolve(path.dirname(file), match[1]);
    const candidates = [`${base}.ts`, path.join(base, 'index.ts')];
    const found = candidates.find((c) => fs.existsSync(c));
    if (found) targets.push(found);
  }
  return targets;
}

/** Every cycle's files, found by depth-first search (one representative path per back edge). */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const walk = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push(stack.slice(stack.indexOf(next)).concat(next));
      else if (!state.has(next)) walk(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) walk(node);
  return found;
}

test('no source file imports itself through others (the construct files read top to bottom)', () => {
  const graph = importGraph();
  // The walk must see the guard's construct files, or the assertion below proves nothing.
  expect(graph.get(path.join(SRC, 'realtime-waf-guard', 'guard-settings.ts'))).toContain(
    path.join(SRC, 'realtime-waf-guard', 'realtime-waf-guard-props.ts'),
  );
  const relative = cycles(graph).map((cycle) => cycle.map((f) => path.relative(SRC, f)).join(' -> '));
  expect(relative).toEqual([]);
});
