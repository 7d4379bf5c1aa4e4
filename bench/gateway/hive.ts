// Hive Gateway (`@graphql-hive/gateway`, MIT) with its defaults, serving the same supergraph over
// Node's http server. The client's pre-signed `x-router-context` is forwarded to every subgraph
// (propagateHeaders); nothing else is configured. A peer for the gateway benchmark only.
//
//   BENCH_PORT=… BENCH_SUPERGRAPH=/path/to/supergraph.graphql node --import tsx bench/gateway/hive.ts
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { createGatewayRuntime } from '@graphql-hive/gateway';

const gateway = createGatewayRuntime({
  supergraph: readFileSync(process.env['BENCH_SUPERGRAPH']!, 'utf8'),
  logging: 'error',
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => ({ 'x-router-context': request.headers.get('x-router-context') }),
  },
});
const server = createServer(gateway);
server.listen(Number(process.env['BENCH_PORT']), '127.0.0.1', () => console.log('hive gateway ready'));
process.on('SIGTERM', () => {
  server.close();
  void Promise.resolve(gateway.dispose()).then(() => process.exit(0));
});
