import { describe, expect, it } from 'vitest';
import { checkBoundaries, findCycles, importsOf, type SourceFile, type Workspace } from './boundaries';

// Import lines are built from parts so this file does not trip the check it tests.
const q = "'";
const imp = (spec: string) => `import { x } from ${q}${spec}${q};`;

const ws = (name: string, dir: string, deps: string[] = [], devDeps: string[] = []): Workspace => ({
  name,
  dir,
  exports: ['.', './testing'],
  deps,
  devDeps,
});

/** A healthy repository: @lt/b builds on @lt/a; a's tests use b. */
const workspaces = [ws('@lt/a', 'packages/a', [], ['@lt/b']), ws('@lt/b', 'packages/b', ['@lt/a'])];
const file = (path: string, ...specs: string[]): SourceFile => ({ path, text: specs.map(imp).join('\n') });
const messages = (files: SourceFile[], w = workspaces) =>
  checkBoundaries(w, files).map((v) => `${v.file}: ${v.message}`);

describe('boundaries check', () => {
  it('reads import, export-from, dynamic import and side-effect import specifiers with their lines', () => {
    const text = [
      imp('./one'),
      `export { y } from ${q}@lt/a${q};`,
      `await import(${q}../two${q});`,
      `import ${q}./three${q};`,
    ].join('\n');
    expect(importsOf(text)).toEqual([
      { spec: './one', line: 1 },
      { spec: '@lt/a', line: 2 },
      { spec: '../two', line: 3 },
      { spec: './three', line: 4 },
    ]);
  });

  it('accepts imports by package name and declared entry point, and relative imports inside a workspace', () => {
    expect(
      messages([
        file('packages/b/src/index.ts', '@lt/a', './local', 'node:fs', 'graphql'),
        file('packages/a/test/a.test.ts', '@lt/b', '@lt/b/testing', '../src/index'),
        file('e2e/x/x.e2e.test.ts', '@lt/a', '../support/graphql'),
      ]),
    ).toEqual([]);
  });

  it("fails on imports of another workspace's private files", () => {
    expect(
      messages([
        file('packages/b/src/index.ts', '../../a/src/internal'),
        file('packages/b/src/other.ts', '@lt/a/src/internal'),
        file('packages/a/test/a.test.ts', '../../b/test/helper'),
        file('packages/b/test/b.test.ts', '../../../e2e/support/graphql'),
        file('e2e/x/x.e2e.test.ts', '../../packages/a/src/internal'),
      ]),
    ).toEqual([
      'packages/b/src/index.ts: relative import of ../../a/src/internal reaches into workspace @lt/a: import it by package name',
      'packages/b/src/other.ts: imports @lt/a/src/internal, which @lt/a does not export',
      'packages/a/test/a.test.ts: relative import of ../../b/test/helper reaches into workspace @lt/b: import it by package name',
      'packages/b/test/b.test.ts: relative import of ../../../e2e/support/graphql reaches into a folder outside this workspace: import it by package name',
      "packages/b/test/b.test.ts: imports the end-to-end suite's file ../../../e2e/support/graphql: move what is shared into a package",
      "e2e/x/x.e2e.test.ts: relative import of ../../packages/a/src/internal reaches into @lt/a's private files: import @lt/a",
    ]);
  });

  it('fails when non-test code imports a test file', () => {
    expect(messages([file('packages/a/src/index.ts', '../test/fixtures')])).toEqual([
      'packages/a/src/index.ts: non-test code imports test file ../test/fixtures',
    ]);
  });

  it('fails on an @lt/* import the package.json does not declare', () => {
    expect(
      messages(
        [file('packages/a/src/index.ts', '@lt/c'), file('packages/b/test/b.test.ts', '@lt/a')],
        [...workspaces, ws('@lt/c', 'packages/c')],
      ),
    ).toEqual([`packages/a/src/index.ts: imports @lt/c, which @lt/a's package.json "dependencies" do not list`]);
    // a devDependency serves tests only
    expect(messages([file('packages/a/src/index.ts', '@lt/b')])).toEqual([
      `packages/a/src/index.ts: imports @lt/b, which @lt/a's package.json "dependencies" do not list`,
      'package.json: workspace dependency cycle: @lt/a -> @lt/b -> @lt/a',
    ]);
  });

  it('fails on a dependency cycle between workspaces, declared or imported', () => {
    const declared = [
      ws('@lt/a', 'packages/a', ['@lt/b']),
      ws('@lt/b', 'packages/b', ['@lt/c']),
      ws('@lt/c', 'packages/c', ['@lt/a']),
    ];
    expect(messages([], declared)).toEqual([
      'package.json: workspace dependency cycle: @lt/a -> @lt/b -> @lt/c -> @lt/a',
    ]);

    const imported = [ws('@lt/a', 'packages/a', ['@lt/b']), ws('@lt/b', 'packages/b', ['@lt/a'])];
    expect(
      messages([file('packages/a/src/index.ts', '@lt/b'), file('packages/b/src/index.ts', '@lt/a')], imported),
    ).toEqual(['package.json: workspace dependency cycle: @lt/a -> @lt/b -> @lt/a']);
  });

  it('fails when a library imports or lists a service (router, subgraphs, app), also from its tests', () => {
    const repo = [
      ws('@lt/lib', 'packages/lib', ['@lt/router'], ['@lt/app']),
      ws('@lt/db', 'prisma', [], ['@lt/subgraph-x']),
      ws('@lt/router', 'router', ['@lt/lib']),
      ws('@lt/subgraph-x', 'subgraphs/x', ['@lt/lib']),
      ws('@lt/app', 'app', ['@lt/router', '@lt/subgraph-x', '@lt/lib']),
    ];
    expect(
      messages(
        [
          file('packages/lib/src/index.ts', '@lt/router'),
          file('packages/lib/test/lib.test.ts', '@lt/app'),
          file('prisma/test/db.test.ts', '@lt/subgraph-x'),
          // Services may use each other and every library; the app runs them all.
          file('router/src/index.ts', '@lt/lib'),
          file('subgraphs/x/src/index.ts', '@lt/lib'),
          file('app/src/index.ts', '@lt/router', '@lt/subgraph-x', '@lt/lib'),
          file('e2e/x/x.e2e.test.ts', '@lt/app', '@lt/router'),
        ],
        repo,
      ),
    ).toEqual([
      'packages/lib/src/index.ts: library @lt/lib imports service @lt/router: libraries know no service (move the code into the service or the app, or what is shared into a library)',
      'packages/lib/test/lib.test.ts: library @lt/lib imports service @lt/app: libraries know no service (move the code into the service or the app, or what is shared into a library)',
      'prisma/test/db.test.ts: library @lt/db imports service @lt/subgraph-x: libraries know no service (move the code into the service or the app, or what is shared into a library)',
      'packages/lib/package.json: library @lt/lib lists service @lt/router: libraries know no service',
      'packages/lib/package.json: library @lt/lib lists service @lt/app: libraries know no service',
      'prisma/package.json: library @lt/db lists service @lt/subgraph-x: libraries know no service',
      'package.json: workspace dependency cycle: @lt/lib -> @lt/router -> @lt/lib',
    ]);
  });

  it('finds every cycle once and none in a DAG', () => {
    const g = (edges: Record<string, string[]>) => new Map(Object.entries(edges).map(([k, v]) => [k, new Set(v)]));
    expect(findCycles(g({ a: ['b', 'c'], b: ['c'], c: [] }))).toEqual([]);
    expect(findCycles(g({ a: ['a'] }))).toEqual([['a', 'a']]);
  });
});
