import type { Db } from '@lt/db';
import { rawQuery } from '../data/raw';
import { createCoalescer } from '../util/coalescer';

/** One successful attempt's delivery, to be marked DELIVERED. */
export interface Delivered {
  deliveryId: string;
  tenantId: string;
  status: number;
  body: string;
}

export interface DeliveredRecorder {
  /** Resolves once the rows are DELIVERED in Postgres (rejects if that statement failed). */
  record(rows: readonly Delivered[]): Promise<void>;
}

/**
 * Records successful attempts together: while one statement (app_deliveries_delivered) runs, what
 * arrives meanwhile waits and goes in the next one, so under load one statement records many
 * deliveries and an idle pipeline pays one round trip. No interactive transaction: the function
 * is one statement. Failures are recorded elsewhere (recordOutcome); batches by the batch dispatcher.
 */
export function createDeliveredRecorder(db: Db): DeliveredRecorder {
  const statements = createCoalescer<Delivered>(async (rows) => {
    await rawQuery(db, 'SELECT app_deliveries_delivered($1::uuid[], $2::uuid[], $3::integer[], $4::text[])', [
      rows.map((r) => r.deliveryId),
      rows.map((r) => r.tenantId),
      rows.map((r) => r.status),
      rows.map((r) => r.body),
    ]);
  });
  return { record: (rows) => statements.add(rows) };
}
