// A bare @apollo/gateway in Apollo Server 5 (standalone HTTP server): no token verification, no
// membership, no limits, no authorization plugin. The client's pre-signed `x-router-context` is
// forwarded to every subgraph as is (the subgraphs refuse anything else). A peer for the gateway
// benchmark only; never a way to serve the API.
//
//   BENCH_PORT=… BENCH_SUPERGRAPH=/path/to/supergraph.graphql node --import tsx bench/gateway/bare.ts
import { readFileSync } from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

interface Ctx {
  signed: string;
}
process.env['APOLLO_TELEMETRY_DISABLED'] = 'true';
const gateway = new ApolloGateway({
  supergraphSdl: readFileSync(process.env['BENCH_SUPERGRAPH']!, 'utf8'),
  buildService: ({ url }) =>
    new (class extends RemoteGraphQLDataSource<Ctx> {
      override willSendRequest({
        request,
        context,
      }: Parameters<NonNullable<RemoteGraphQLDataSource<Ctx>['willSendRequest']>>[0]): void {
        request.http?.headers.set('x-router-context', context.signed);
      }
    })({ url: url! }),
});
const server = new ApolloServer<Ctx>({ gateway });
const { url } = await startStandaloneServer(server, {
  listen: { port: Number(process.env['BENCH_PORT']), host: '127.0.0.1' },
  context: async ({ req }) => ({ signed: String(req.headers['x-router-context'] ?? '') }),
});
console.log(`bare gateway ready ${url}`);
process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
