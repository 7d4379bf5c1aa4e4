// `npm run compose`: write router/supergraph.graphql (for the router) and router/schema.graphql
// (the client-facing API schema, for codegen) from supergraph.yaml, offline.
// `npm run compose:check`: fail, naming the fix, when either committed file is stale.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { composeFromConfig } from '@lt/supergraph';

const root = fileURLToPath(new URL('..', import.meta.url));
const { supergraphSdl, apiSdl } = composeFromConfig(`${root}supergraph.yaml`);
const outputs: [string, string][] = [
  [`${root}router/supergraph.graphql`, supergraphSdl],
  [`${root}router/schema.graphql`, apiSdl],
];
if (process.argv.includes('--check')) {
  const stale = outputs.filter(([file, content]) => !existsSync(file) || readFileSync(file, 'utf8') !== content);
  if (stale.length > 0) {
    console.error(
      `${stale.map(([f]) => f.replace(root, '')).join(', ')} stale: run \`npm run compose\` and commit the result`,
    );
    process.exit(1);
  }
  console.log('supergraph is up to date');
} else {
  for (const [file, content] of outputs) writeFileSync(file, content);
  console.log('wrote router/supergraph.graphql and router/schema.graphql');
}
