-- Batched webhook delivery: a sink may take up to batch_max_events events per signed request, sent
-- when full or when the oldest waited batch_max_wait_ms. Both NULL: one event per request, as before.
-- No new table: the settings live on stream_sinks and a batch is a set of deliveries rows sharing
-- batch_id (that batch's webhook-id), so the existing RLS policies of both tables cover them.
ALTER TABLE "stream_sinks" ADD COLUMN "batch_max_events" INTEGER;
ALTER TABLE "stream_sinks" ADD COLUMN "batch_max_wait_ms" INTEGER;
ALTER TABLE "stream_sinks" ADD CONSTRAINT "stream_sinks_batch_check" CHECK (
  ("batch_max_events" IS NULL AND "batch_max_wait_ms" IS NULL) OR
  ("batch_max_events" BETWEEN 1 AND 1000 AND "batch_max_wait_ms" BETWEEN 0 AND 10000));

-- Fixed on a batch's first attempt, kept on every retry and on replay: the batch's webhook-id.
ALTER TABLE "deliveries" ADD COLUMN "batch_id" UUID;
-- A batched sink's PENDING rows in seq order (its batches are consecutive runs of them).
CREATE INDEX "deliveries_pending_sink_seq_idx" ON "deliveries"("sink_id", "seq") WHERE "status" = 'PENDING';
CREATE INDEX "deliveries_tenant_id_batch_id_idx" ON "deliveries"("tenant_id", "batch_id") WHERE "batch_id" IS NOT NULL;

-- The relay may claim up to 5,000 rows per transaction (was 1,000).
CREATE OR REPLACE FUNCTION app_outbox_claim(p_limit integer, p_tenant_ids uuid[] DEFAULT NULL)
RETURNS TABLE (id uuid, seq bigint, tenant_id uuid, topic text, key text, type text, payload jsonb,
               occurred_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public AS
$$
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtext('lt.outbox.relay:' || coalesce(
       (SELECT string_agg(t::text, ',' ORDER BY t) FROM unnest(p_tenant_ids) t), '*'))) THEN
    RETURN;
  END IF;
  RETURN QUERY
    SELECT o.id, o.seq, o.tenant_id, o.topic, o.key, o.type, o.payload, o.occurred_at
      FROM outbox o
     WHERE o.sent_at IS NULL AND (p_tenant_ids IS NULL OR o.tenant_id = ANY(p_tenant_ids))
     ORDER BY o.seq
     LIMIT least(greatest(p_limit, 1), 5000)
       FOR UPDATE SKIP LOCKED;
END
$$;

-- The per-event lease now serves unbatched sinks only (batched ones are leased a batch at a time).
-- It starts from the ACTIVE unbatched sinks, so a batched sink's backlog costs it nothing.
CREATE OR REPLACE FUNCTION app_deliveries_lease(p_limit integer, p_lease_ms integer, p_tenant_ids uuid[] DEFAULT NULL)
RETURNS TABLE (tenant_id uuid, sink_id uuid, delivery_id uuid)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public AS
$$ WITH heads AS (
     SELECT DISTINCT ON (d.sink_id, d.ordering_key) d.id, d.next_attempt_at, d.seq
       FROM deliveries d JOIN stream_sinks s ON s.id = d.sink_id AND s.status = 'ACTIVE'
                                             AND s.batch_max_events IS NULL
      WHERE d.status = 'PENDING' AND (p_tenant_ids IS NULL OR d.tenant_id = ANY(p_tenant_ids))
      ORDER BY d.sink_id, d.ordering_key, d.seq),
   due AS (
     SELECT id FROM heads WHERE coalesce(next_attempt_at, '-infinity') <= now()
      ORDER BY seq LIMIT least(greatest(p_limit, 1), 1000))
   UPDATE deliveries d
      SET next_attempt_at = now() + make_interval(secs => greatest(p_lease_ms, 1) / 1000.0)
     FROM due
    WHERE d.id = due.id AND d.status = 'PENDING' AND coalesce(d.next_attempt_at, '-infinity') <= now()
   RETURNING d.tenant_id, d.sink_id, d.id $$;

-- Leases the next batch of up to p_sinks ACTIVE batched sinks, oldest head first (fair across sinks
-- and tenants: one batch per sink per call, so a sink's backlog never crowds out another sink).
-- A sink's batches are consecutive runs of its PENDING rows in seq order, one in flight at a time
-- (the leased head blocks the rest), so a session's events keep their order within and across
-- batches. A head that already has a batch_id is retried as exactly that batch (same webhook-id);
-- otherwise up to batch_max_events rows without one form a new batch, once there are that many or
-- the oldest has waited batch_max_wait_ms. Returns the rows, with what the attempt needs.
CREATE FUNCTION app_delivery_batches_lease(p_sinks integer, p_lease_ms integer, p_tenant_ids uuid[] DEFAULT NULL)
RETURNS TABLE (tenant_id uuid, sink_id uuid, batch_id uuid, delivery_id uuid, seq bigint, event_id uuid,
               payload text, attempts integer, created_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public AS
$$
DECLARE
  s record;
  h record;
  v_batch uuid;
  v_ids uuid[];
  v_ready boolean;
  v_taken integer := 0;
  v_until timestamptz := now() + make_interval(secs => greatest(p_lease_ms, 1) / 1000.0);
BEGIN
  FOR s IN
    SELECT k.id, k.batch_max_events, k.batch_max_wait_ms, hd.seq AS head_seq
      FROM stream_sinks k
      CROSS JOIN LATERAL (SELECT d.seq FROM deliveries d
                           WHERE d.sink_id = k.id AND d.status = 'PENDING'
                           ORDER BY d.seq LIMIT 1) hd
     WHERE k.status = 'ACTIVE' AND k.batch_max_events IS NOT NULL
       AND (p_tenant_ids IS NULL OR k.tenant_id = ANY(p_tenant_ids))
     ORDER BY hd.seq
  LOOP
    EXIT WHEN v_taken >= greatest(p_sinks, 1);
    -- Another dispatcher is leasing this sink right now: leave it to that one.
    CONTINUE WHEN NOT pg_try_advisory_xact_lock(hashtext('lt.deliveries.batch:' || s.id::text));
    SELECT d.id, d.batch_id, d.next_attempt_at, d.created_at INTO h
      FROM deliveries d WHERE d.sink_id = s.id AND d.status = 'PENDING' ORDER BY d.seq LIMIT 1;
    CONTINUE WHEN h.id IS NULL OR coalesce(h.next_attempt_at, '-infinity') > now();
    IF h.batch_id IS NOT NULL THEN
      v_batch := h.batch_id;
      SELECT array_agg(d.id) INTO v_ids FROM deliveries d
       WHERE d.sink_id = s.id AND d.status = 'PENDING' AND d.batch_id = v_batch;
    ELSE
      -- The run of rows without a batch_id from the head on (stops at the first row that has one).
      SELECT array_agg(x.id ORDER BY x.seq) INTO v_ids FROM (
        SELECT y.id, y.seq, count(y.batch_id) OVER (ORDER BY y.seq) AS batched FROM (
          SELECT d.id, d.seq, d.batch_id FROM deliveries d
           WHERE d.sink_id = s.id AND d.status = 'PENDING'
           ORDER BY d.seq LIMIT s.batch_max_events) y) x
       WHERE x.batched = 0;
      v_ready := coalesce(array_length(v_ids, 1), 0) >= s.batch_max_events
              OR h.created_at <= now() - make_interval(secs => s.batch_max_wait_ms / 1000.0);
      CONTINUE WHEN NOT v_ready;
      v_batch := gen_random_uuid();
    END IF;
    UPDATE deliveries d SET batch_id = v_batch, next_attempt_at = v_until
     WHERE d.id = ANY(v_ids) AND d.status = 'PENDING';
    v_taken := v_taken + 1;
    RETURN QUERY
      SELECT d.tenant_id, d.sink_id, d.batch_id, d.id, d.seq, d.event_id, d.payload::text, d.attempts, d.created_at
        FROM deliveries d WHERE d.id = ANY(v_ids) ORDER BY d.seq;
  END LOOP;
END
$$;

-- When the next batched work is due (the dispatcher sleeps until then, at most its poll interval):
-- the earliest of each ACTIVE batched sink's head retry time or wait deadline. NULL: nothing pending.
CREATE FUNCTION app_delivery_batches_next_due(p_tenant_ids uuid[] DEFAULT NULL) RETURNS timestamptz
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS
$$ SELECT min(CASE WHEN h.batch_id IS NOT NULL THEN coalesce(h.next_attempt_at, '-infinity')
                   ELSE greatest(coalesce(h.next_attempt_at, '-infinity'),
                                 h.created_at + make_interval(secs => k.batch_max_wait_ms / 1000.0)) END)
     FROM stream_sinks k
     CROSS JOIN LATERAL (SELECT d.batch_id, d.next_attempt_at, d.created_at FROM deliveries d
                          WHERE d.sink_id = k.id AND d.status = 'PENDING'
                          ORDER BY d.seq LIMIT 1) h
    WHERE k.status = 'ACTIVE' AND k.batch_max_events IS NOT NULL
      AND (p_tenant_ids IS NULL OR k.tenant_id = ANY(p_tenant_ids)) $$;

REVOKE ALL ON FUNCTION app_delivery_batches_lease(integer, integer, uuid[]),
  app_delivery_batches_next_due(uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_delivery_batches_lease(integer, integer, uuid[]),
  app_delivery_batches_next_due(uuid[]) TO lt_app;
