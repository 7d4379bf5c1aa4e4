import { isUuid } from '@lt/context';
import type { Tx } from '@lt/db';
import type { StreamTopic } from '../kafka/client';

/** The caller's tenant's sinks (RLS limits `tx` to it). */
export function listSinks(tx: Tx) {
  return tx.streamSink.findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
}

/** One sink of the tenant in `tx`, or null — also for other tenants' ids (RLS hides them). */
export function findSink(tx: Tx, id: string) {
  return isUuid(id) ? tx.streamSink.findUnique({ where: { id } }) : Promise.resolve(null);
}

/** Sinks by id, one query (ids that are not UUIDs are left out; RLS: the transaction's tenant). */
export function findSinks(tx: Tx, ids: readonly string[]) {
  const valid = ids.filter(isUuid);
  return valid.length ? tx.streamSink.findMany({ where: { id: { in: valid } } }) : Promise.resolve([]);
}

export function insertSink(
  tx: Tx,
  data: {
    tenantId: string;
    name: string;
    url: string;
    topics: StreamTopic[];
    secretEnc: string;
    batchMaxEvents?: number | null;
    batchMaxWaitMs?: number | null;
  },
) {
  return tx.streamSink.create({ data });
}
