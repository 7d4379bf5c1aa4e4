// `npm run compose`: write router/supergraph.graphql from supergraph.yaml (offline).
// `npm run compose:check`: fail, naming the fix, when the committed supergraph is stale.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { composeFromConfig } from '@lt/supergraph';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}router/supergraph.graphql`;
const { supergraphSdl } = composeFromConfig(`${root}supergraph.yaml`);
if (process.argv.includes('--check')) {
  const current = existsSync(out) ? readFileSync(out, 'utf8') : '';
  if (current !== supergraphSdl) {
    console.error('router/supergraph.graphql is stale: run `npm run compose` and commit the result');
    process.exit(1);
  }
  console.log('supergraph is up to date');
} else {
  writeFileSync(out, supergraphSdl);
  console.log(`wrote ${out}`);
}
