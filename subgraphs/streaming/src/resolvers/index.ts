import { notImplemented } from '@lt/errors';
import { DateTimeScalar } from '@lt/server';
import type { StreamingSubgraphDeps } from '../createStreamingSubgraph';

export function createResolvers(_deps: StreamingSubgraphDeps) {
  const todo = (name: string) => () => {
    throw notImplemented(name);
  };
  return {
    DateTime: DateTimeScalar,
    Query: {
      streamSinks: todo('streamSinks'),
      streamSink: todo('streamSink'),
      streamingStatus: todo('streamingStatus'),
    },
    Mutation: {
      createStreamSink: todo('createStreamSink'),
      updateStreamSink: todo('updateStreamSink'),
      deleteStreamSink: todo('deleteStreamSink'),
      rotateStreamSinkSecret: todo('rotateStreamSinkSecret'),
      sendTestEvent: todo('sendTestEvent'),
      replayDeadLetters: todo('replayDeadLetters'),
    },
  };
}
