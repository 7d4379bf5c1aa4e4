import { withTenant } from '@lt/db';
import { requeueDead } from '../data/deliveries';
import type { SinkUseCaseDeps } from '../deps';
import { mustFindSink } from './readSinks';

/** Requeues the sink's DEAD deliveries; returns how many (the dispatcher is woken when any). */
export async function replayDeadLetters(d: SinkUseCaseDeps, tenantId: string, sinkId: string): Promise<number> {
  await mustFindSink(d.db, tenantId, sinkId);
  const n = await withTenant(d.db, tenantId, (tx) => requeueDead(tx, sinkId));
  if (n > 0) d.wake();
  return n;
}
