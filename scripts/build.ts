// `npm run build` (after `tsc -p tsconfig.build.json`): compiles each deployable entry point to one
// plain-JavaScript ES module in dist/, run with `node dist/<name>.js` (Dockerfile,
// docker-compose.yml, the "as deployed" benchmark). Development keeps running the TypeScript
// sources through tsx.
//
// Why a bundler (esbuild, the compiler tsx already runs on) rather than tsc's own output: the
// sources import each other without file extensions and the workspace packages export their .ts
// files, neither of which plain Node can load. esbuild resolves both at build time. Our code
// (workspace packages, services, the generated Prisma client) is bundled; every third-party package
// stays an import from node_modules, as under tsx.
//
// Files are read relative to their source (`new URL('../schema.graphql', import.meta.url)`:
// schemas, the supergraph, migrations, dashboard assets). In a bundle, `import.meta.url` would be
// the bundle's address, so each source's `import.meta.url` is replaced by its own original
// location: the files stay where they are in the repository (and in the image) and are read from there.
import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** dist/<name>.js ← entry. */
export const ENTRIES: Record<string, string> = {
  router: 'router/src/index.ts',
  auth: 'subgraphs/auth/src/index.ts',
  tenant: 'subgraphs/tenant/src/index.ts',
  location: 'subgraphs/location/src/index.ts',
  streaming: 'subgraphs/streaming/src/index.ts',
  migrate: 'prisma/scripts/migrate.ts',
  'cognito-seed': 'packages/embedded/src/cognito/seedCli.ts',
  start: 'scripts/start.ts',
};

const thirdPartyExternal: Plugin = {
  name: 'third-party-external',
  setup(b) {
    // Bare specifiers other than our workspace packages (@lt/*) load from node_modules at run time.
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@lt/') ? undefined : { path: args.path, external: true },
    );
  },
};

const sourceLocation = (outdir: string): Plugin => ({
  name: 'source-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes('/node_modules/')) return undefined;
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return { contents: text, loader: 'ts' };
      const fromBundle = relative(outdir, args.path).split('\\').join('/');
      const url = `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`;
      return { contents: text.replaceAll('import.meta.url', url), loader: 'ts' };
    });
  },
});

/** Compiles every entry into `outdir` (default dist/); returns the file of each. */
export async function buildAll(outdir = resolve(root, 'dist')): Promise<Record<string, string>> {
  const started = Date.now();
  await build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, file]) => [name, resolve(root, file)])),
    outdir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    sourcemap: true,
    // One copy of the code two entries share is not worth chunk files: each service is one file.
    splitting: false,
    logLevel: 'warning',
    plugins: [thirdPartyExternal, sourceLocation(outdir)],
  });
  const files = Object.fromEntries(Object.keys(ENTRIES).map((n) => [n, resolve(outdir, `${n}.js`)]));
  const shown = Object.values(files).map((f) => relative(root, f) || f);
  console.log(`built ${shown.join(' ')} in ${Date.now() - started} ms`);
  return files;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await buildAll();
