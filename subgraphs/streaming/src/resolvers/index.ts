import { DateTimeScalar } from '@lt/server';
import type { SinkUseCaseDeps, StreamingSubgraphDeps } from '../deps';
import { deliveryResolvers } from './Delivery';
import { createMutationResolvers } from './Mutation';
import { createQueryResolvers } from './Query';
import { createStreamSinkResolvers } from './StreamSink';

/** The streaming subgraph's resolvers, one file per GraphQL type. */
export function createResolvers(deps: StreamingSubgraphDeps & { sinks: SinkUseCaseDeps }) {
  return {
    DateTime: DateTimeScalar,
    Query: createQueryResolvers(deps),
    Mutation: createMutationResolvers(deps.sinks),
    StreamSink: createStreamSinkResolvers(deps.db),
    Delivery: deliveryResolvers,
  };
}
