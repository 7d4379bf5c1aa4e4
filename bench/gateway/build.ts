// Compiles the router (router/src/index.ts and the @lt/* workspace packages it imports) into one
// ES module with esbuild, so the benchmark runs JavaScript instead of tsx's on-the-fly loader.
// Third-party packages stay external (loaded from node_modules as usual). Each file's
// `import.meta.url` is kept pointing at its source file, so paths it resolves (supergraph,
// dashboard assets) are the same as under tsx.
//
//   npx tsx bench/gateway/build.ts            → bench/gateway/.build/router.mjs
//   npx tsx bench/gateway/build.ts <git ref>  → bench/gateway/.build/router-<ref>.mjs (that commit's router)
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

const root = fileURLToPath(new URL('../../', import.meta.url));
const out = fileURLToPath(new URL('./.build/', import.meta.url));

/** `@lt/<name>[/sub]` → the source file its workspace package exports, under `base`. */
function workspaceResolver(base: string): (spec: string) => string | undefined {
  const byName = new Map<string, { dir: string; exports: Record<string, string> }>();
  for (const group of ['packages', 'subgraphs', '.']) {
    const dirs =
      group === '.'
        ? ['prisma', 'router']
        : existsSync(join(base, group))
          ? execFileSync('ls', [join(base, group)], { encoding: 'utf8' })
              .split('\n')
              .filter(Boolean)
              .map((d) => join(group, d))
          : [];
    for (const d of dirs) {
      const file = join(base, d, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name: string; exports?: Record<string, string> };
      byName.set(pkg.name, { dir: join(base, d), exports: pkg.exports ?? {} });
    }
  }
  return (spec) => {
    const m = /^(@lt\/[^/]+)(\/.*)?$/.exec(spec);
    const pkg = m && byName.get(m[1]!);
    const target = pkg?.exports[m![2] ? `.${m![2]}` : '.'];
    return pkg && target ? join(pkg.dir, target) : undefined;
  };
}

function plugin(base: string): Plugin {
  const resolveWorkspace = workspaceResolver(base);
  return {
    name: 'keep-import-meta-url',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        if (args.path.startsWith('@lt/')) return { path: resolveWorkspace(args.path) ?? args.path };
        return { path: args.path, external: true };
      });
      b.onLoad({ filter: /\.[cm]?ts$/ }, async (args) => {
        const source = await readFile(args.path, 'utf8');
        return {
          contents: source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
          loader: 'ts',
        };
      });
    },
  };
}

/**
 * Bundles the router of the working tree, or of git commit `ref` (its router/, packages/ and
 * prisma/ sources extracted under .build/, with this tree's generated Prisma client).
 */
export async function buildRouter(ref?: string): Promise<string> {
  let base = root;
  if (ref) {
    // Outside the test globs (vitest skips node_modules): the extracted copy's tests must not run.
    base = join(root, 'node_modules/.cache/lt-bench-gateway', `src-${ref}`);
    rmSync(base, { recursive: true, force: true });
    mkdirSync(base, { recursive: true });
    execFileSync('sh', [
      '-c',
      `git -C "$0" archive "$1" router packages prisma subgraphs | tar -x -C "$2"`,
      root,
      ref,
      base,
    ]);
    cpSync(join(root, 'prisma/generated'), join(base, 'prisma/generated'), { recursive: true });
  }
  const outfile = join(out, ref ? `router-${ref}.mjs` : 'router.mjs');
  await build({
    entryPoints: [join(base, 'router/src/index.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    plugins: [plugin(base)],
    logLevel: 'warning',
    sourcemap: 'linked',
  });
  return outfile;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) console.log(await buildRouter(process.argv[2]));
