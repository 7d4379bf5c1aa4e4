import type { SubgraphContext } from '@lt/server';
import type { SinkUseCaseDeps } from '../deps';
import type { BatchInput, SinkInput } from '../sinks/validate';
import { createSink } from '../useCases/createSink';
import { deleteSink } from '../useCases/deleteSink';
import { replayDeadLetters } from '../useCases/replayDeadLetters';
import { rotateSinkSecret } from '../useCases/rotateSinkSecret';
import { sendTestEvent } from '../useCases/sendTestEvent';
import { updateSink } from '../useCases/updateSink';
import { admin } from './admin';

export function createMutationResolvers(d: SinkUseCaseDeps) {
  return {
    createStreamSink: (
      _: unknown,
      a: { input: { name: string; url: string; topics: string[]; batch?: BatchInput | null } },
      ctx: SubgraphContext,
    ) => createSink(d, admin(ctx).tenantId, a.input),
    updateStreamSink: (_: unknown, a: { id: string; input: SinkInput }, ctx: SubgraphContext) =>
      updateSink(d, admin(ctx).tenantId, a.id, a.input),
    deleteStreamSink: (_: unknown, a: { id: string }, ctx: SubgraphContext) => deleteSink(d, admin(ctx).tenantId, a.id),
    rotateStreamSinkSecret: (_: unknown, a: { id: string }, ctx: SubgraphContext) =>
      rotateSinkSecret(d, admin(ctx).tenantId, a.id),
    sendTestEvent: (_: unknown, a: { sinkId: string }, ctx: SubgraphContext) =>
      sendTestEvent(d, admin(ctx).tenantId, a.sinkId),
    replayDeadLetters: (_: unknown, a: { sinkId: string }, ctx: SubgraphContext) =>
      replayDeadLetters(d, admin(ctx).tenantId, a.sinkId),
  };
}
