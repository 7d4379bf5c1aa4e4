import { withTenant } from '@lt/db';
import { notFound } from '@lt/errors';
import { findSink } from '../data/sinks';
import type { SinkUseCaseDeps } from '../deps';

/** Deletes the tenant's sink; NOT_FOUND when it has none with this id. */
export async function deleteSink(d: SinkUseCaseDeps, tenantId: string, id: string): Promise<boolean> {
  const { count } = await withTenant(d.db, tenantId, (tx) =>
    findSink(tx, id).then((s) => (s ? tx.streamSink.deleteMany({ where: { id } }) : { count: 0 })),
  );
  if (count === 0) throw notFound('StreamSink', 'id');
  return true;
}
