// `npm run check` (boundaries:check): the workspaces of this monorepo (root package.json
// "workspaces") talk to each other only through their package names and declared entry points.
// Fails, naming file and line, when
// - a file imports another workspace's private files: a relative path into another workspace
//   (`../../other/src/x.ts`), a package subpath the target does not export (`@lt/x/src/y`), or a
//   test file of another workspace or of the end-to-end suite;
// - a workspace imports an `@lt/*` package it does not list in its package.json: `dependencies` for
//   its own code, `dependencies` or `devDependencies` for its tests;
// - a library imports or lists a service: libraries (`packages/*`, and `prisma` = @lt/db) know no
//   service (`router`, `subgraphs/*`, `app`), not even in their tests; what a library's test needs
//   from a service is tested in that service or in the app;
// - the workspaces depend on each other in a cycle: the graph is the declared `dependencies` plus the
//   actual imports of non-test code. Tests stay out of it: @lt/testing builds on @lt/db, and
//   @lt/db's tests use @lt/testing, as a package's tests may use anything that builds on it.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface Workspace {
  /** Package name, e.g. `@lt/errors`. */
  name: string;
  /** Folder relative to the repository root, `/`-separated, no trailing slash. */
  dir: string;
  /** Subpaths of `exports` (`.`, `./testing`, ...). */
  exports: string[];
  /** Names listed in `dependencies`: what the package's own code may import. */
  deps: string[];
  /** Names listed in `devDependencies`: what only its tests may import. */
  devDeps: string[];
}

export interface SourceFile {
  /** Path relative to the repository root, `/`-separated. */
  path: string;
  text: string;
}

export interface Violation {
  file: string;
  line: number;
  message: string;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+|\bvi\.mock\(\s*)['"]([^'"]+)['"]/gm;

/** Every module specifier a file imports, with its 1-based line. */
export function importsOf(text: string): { spec: string; line: number }[] {
  const found: { spec: string; line: number }[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const line = text.slice(0, m.index).split('\n').length;
    found.push({ spec: m[1]!, line });
  }
  return found;
}

const toPosix = (p: string) => p.split(sep).join('/');

/** The workspace a repository path belongs to, if any. */
function owner(workspaces: Workspace[], path: string): Workspace | undefined {
  return workspaces.find((w) => path === w.dir || path.startsWith(`${w.dir}/`));
}

/** Shared libraries: the workspaces under `packages/`, and `prisma` (@lt/db). */
export function isLibrary(w: Workspace): boolean {
  return w.dir.startsWith('packages/') || w.dir === 'prisma';
}

/** Services: the router, the subgraphs and the one-process app that runs them all. */
export function isService(w: Workspace): boolean {
  return w.dir === 'router' || w.dir === 'app' || w.dir.startsWith('subgraphs/');
}

const knowsNoService = (from: Workspace, to: Workspace) =>
  `library ${from.name} imports service ${to.name}: libraries know no service (move the code into the service or the app, or what is shared into a library)`;

/** Test code: files named `*.test.ts` anywhere and anything under a `test/` folder or the e2e suite. */
function isTestPath(path: string): boolean {
  return /(^|\/)test\//.test(path) || /\.test\.ts$/.test(path) || path.startsWith('e2e/');
}

/** Cycles in a directed graph, each as the list of its nodes (first node repeated at the end). */
export function findCycles(edges: Map<string, Set<string>>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of [...(edges.get(node) ?? [])].sort()) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...edges.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

/** Every boundary violation among `files`, given the repository's `workspaces`. */
export function checkBoundaries(workspaces: Workspace[], files: SourceFile[]): Violation[] {
  const violations: Violation[] = [];
  const byName = new Map(workspaces.map((w) => [w.name, w]));
  const edges = new Map<string, Set<string>>(
    workspaces.map((w) => [w.name, new Set(w.deps.filter((d) => byName.has(d)))]),
  );

  for (const file of files) {
    const from = owner(workspaces, file.path);
    const fromTest = isTestPath(file.path);
    for (const { spec, line } of importsOf(file.text)) {
      const report = (message: string) => violations.push({ file: file.path, line, message });
      if (spec.startsWith('.')) {
        const target = toPosix(normalize(join(dirname(file.path), spec)));
        const to = owner(workspaces, target);
        if (to !== from) {
          const where = to ? `workspace ${to.name}` : 'a folder outside this workspace';
          if (from) report(`relative import of ${spec} reaches into ${where}: import it by package name`);
          else if (to) report(`relative import of ${spec} reaches into ${to.name}'s private files: import ${to.name}`);
        }
        if (!fromTest && isTestPath(target)) report(`non-test code imports test file ${spec}`);
        else if (isTestPath(target) && target.startsWith('e2e/') && !file.path.startsWith('e2e/'))
          report(`imports the end-to-end suite's file ${spec}: move what is shared into a package`);
        continue;
      }
      const pkg = /^(@lt\/[^/]+)(\/.*)?$/.exec(spec);
      if (!pkg) continue;
      const to = byName.get(pkg[1]!);
      if (!to) {
        report(`imports ${pkg[1]}, which is no workspace`);
        continue;
      }
      const sub = pkg[2] ? `.${pkg[2]}` : '.';
      if (!to.exports.includes(sub)) report(`imports ${spec}, which ${to.name} does not export`);
      if (from && isLibrary(from) && isService(to)) report(knowsNoService(from, to));
      if (from && from !== to) {
        if (fromTest) {
          if (!from.deps.includes(to.name) && !from.devDeps.includes(to.name))
            report(`test imports ${to.name}, which ${from.name}'s package.json does not list`);
        } else {
          if (!from.deps.includes(to.name))
            report(`imports ${to.name}, which ${from.name}'s package.json "dependencies" do not list`);
          edges.get(from.name)!.add(to.name);
        }
      }
    }
  }

  for (const w of workspaces.filter(isLibrary)) {
    for (const dep of [...w.deps, ...w.devDeps]) {
      const to = byName.get(dep);
      if (to && isService(to))
        violations.push({
          file: `${w.dir}/package.json`,
          line: 0,
          message: `library ${w.name} lists service ${to.name}: libraries know no service`,
        });
    }
  }

  for (const cycle of findCycles(edges)) {
    violations.push({ file: 'package.json', line: 0, message: `workspace dependency cycle: ${cycle.join(' -> ')}` });
  }
  return violations;
}

/** The workspaces listed in the root package.json (`dir/*` globs or plain folders). */
export function readWorkspaces(root: string): Workspace[] {
  const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] };
  const dirs = rootPkg.workspaces.flatMap((pattern) =>
    pattern.endsWith('/*')
      ? readdirSync(join(root, pattern.slice(0, -2)), { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => `${pattern.slice(0, -2)}/${d.name}`)
      : [pattern],
  );
  return dirs
    .filter((dir) => existsSync(join(root, dir, 'package.json')))
    .map((dir) => {
      const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as {
        name: string;
        exports?: Record<string, string> | string;
        dependencies?: Record<string, string>;
        devDependencies?: Record<string, string>;
      };
      const exports = typeof pkg.exports === 'object' ? Object.keys(pkg.exports) : ['.'];
      return {
        name: pkg.name,
        dir,
        exports,
        deps: Object.keys(pkg.dependencies ?? {}),
        devDeps: Object.keys(pkg.devDependencies ?? {}),
      };
    });
}

const SKIP = /(^|\/)(node_modules|generated|gql|\.build)\//;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = process.cwd();
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const files = listed
    .split('\0')
    .filter((f) => /\.(ts|tsx|mts)$/.test(f) && !SKIP.test(f) && existsSync(join(root, f)))
    .map((path) => ({ path: toPosix(relative(root, join(root, path))), text: readFileSync(join(root, path), 'utf8') }));
  const violations = checkBoundaries(readWorkspaces(root), files);
  for (const v of violations) console.error(`${v.file}:${v.line}: ${v.message}`);
  if (violations.length) {
    console.error(`\n${violations.length} boundary violation(s): see README, "Layout"`);
    process.exit(1);
  }
  console.log(
    'workspace boundaries hold: no private imports, all @lt/* dependencies declared, no library imports a service, no cycles',
  );
}
