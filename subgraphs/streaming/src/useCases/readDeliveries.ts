import { withTenant, type Db } from '@lt/db';
import { listDeliveries, sinkStats, type DeliveryStatus } from '../data/deliveries';

/** Delivery counts of the tenant's sink. */
export const getSinkStats = (db: Db, tenantId: string, sinkId: string) =>
  withTenant(db, tenantId, (tx) => sinkStats(tx, sinkId));

/** Up to `take` of the sink's deliveries, newest first, optionally of one status and after a cursor. */
export const listSinkDeliveries = (
  db: Db,
  tenantId: string,
  sinkId: string,
  o: { status: DeliveryStatus | null; take: number; after?: { createdAt: Date; id: string } },
) => withTenant(db, tenantId, (tx) => listDeliveries(tx, sinkId, o));
