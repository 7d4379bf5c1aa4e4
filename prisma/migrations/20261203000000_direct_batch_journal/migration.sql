-- Batched sinks dispatched straight from the Kafka consumer. While a batched sink has no PENDING
-- deliveries row, the consumer keeps its events in memory and writes, in the tenant transaction
-- that also records processed_events, ONE journal row per (sink, batch, consumed chunk) instead of
-- one deliveries row per event. A success deletes the batch's journal rows; a failure (or a full
-- memory bound, or an owner that died) converts them into ordinary PENDING deliveries rows, with
-- the seq values reserved here, so the leased path takes over in the same order.

-- Per-sink progress of the direct path (its successes write no deliveries rows).
ALTER TABLE "stream_sinks" ADD COLUMN "direct_delivered" BIGINT NOT NULL DEFAULT 0;
ALTER TABLE "stream_sinks" ADD COLUMN "direct_delivered_at" TIMESTAMPTZ(3);

-- The envelope text exactly as it was sent by the direct path, kept on rows converted from the
-- journal: a retry of that batch sends byte for byte the same events (jsonb would reformat them).
ALTER TABLE "deliveries" ADD COLUMN "raw_payload" TEXT;

CREATE TABLE "webhook_batch_parts" (
  "tenant_id"     UUID NOT NULL,
  "sink_id"       UUID NOT NULL,
  -- The batch's webhook-id, fixed when the batch opened.
  "batch_id"      UUID NOT NULL,
  -- 0, 1, …: the parts of a batch in order (one per consumed chunk that fed it).
  "part"          INTEGER NOT NULL,
  "topic"         TEXT NOT NULL,
  "event_ids"     UUID[] NOT NULL,
  "types"         TEXT[] NOT NULL,
  "ordering_keys" TEXT[] NOT NULL,
  -- Each event's envelope text as read from the log.
  "payloads"      TEXT[] NOT NULL,
  -- Reserved from deliveries' seq sequence when the part was written: a conversion keeps relay
  -- order against rows other processes parked meanwhile.
  "seqs"          BIGINT[] NOT NULL,
  -- The process holding the batch in memory; it renews lease_until while it holds it.
  "owner"         TEXT NOT NULL,
  "lease_until"   TIMESTAMPTZ(3) NOT NULL,
  -- When the part was written; the newest part's is the batch body's `timestamp`.
  "created_at"    TIMESTAMPTZ(3) NOT NULL,
  CONSTRAINT "webhook_batch_parts_pkey" PRIMARY KEY ("sink_id", "batch_id", "part"),
  CONSTRAINT "webhook_batch_parts_sizes_check" CHECK (
    cardinality("event_ids") = cardinality("payloads") AND cardinality("event_ids") = cardinality("seqs")
    AND cardinality("event_ids") = cardinality("types") AND cardinality("event_ids") = cardinality("ordering_keys"))
);
ALTER TABLE "webhook_batch_parts" ADD CONSTRAINT "webhook_batch_parts_sink_id_fkey"
  FOREIGN KEY ("sink_id") REFERENCES "stream_sinks"("id") ON DELETE CASCADE ON UPDATE CASCADE;
CREATE INDEX "webhook_batch_parts_sink_lease_idx" ON "webhook_batch_parts"("sink_id", "lease_until");
CREATE INDEX "webhook_batch_parts_lease_idx" ON "webhook_batch_parts"("lease_until");
CREATE INDEX "webhook_batch_parts_tenant_batch_idx" ON "webhook_batch_parts"("tenant_id", "batch_id");

ALTER TABLE "webhook_batch_parts" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "webhook_batch_parts" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "webhook_batch_parts" USING ("tenant_id" = (SELECT app_current_tenant()))
  WITH CHECK ("tenant_id" = (SELECT app_current_tenant()));
GRANT SELECT, INSERT, UPDATE, DELETE ON "webhook_batch_parts" TO lt_app;

-- Successful direct batches, many at once: their journal rows deleted (tenant matched), the sinks'
-- progress counted and failure window closed. Returns journal rows deleted.
CREATE FUNCTION app_webhook_parts_delivered(p_tenant_ids uuid[], p_sink_ids uuid[], p_batch_ids uuid[],
                                            p_counts integer[])
RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public AS
$$ WITH x AS (SELECT * FROM unnest(p_tenant_ids, p_sink_ids, p_batch_ids, p_counts) AS x(tenant_id, sink_id, batch_id, n)),
   d AS (
     DELETE FROM webhook_batch_parts p USING x
      WHERE p.tenant_id = x.tenant_id AND p.sink_id = x.sink_id AND p.batch_id = x.batch_id
      RETURNING 1),
   s AS (
     UPDATE stream_sinks k SET direct_delivered = k.direct_delivered + y.n, direct_delivered_at = now(),
                               failing_since = NULL
       FROM (SELECT tenant_id, sink_id, sum(n)::bigint AS n FROM x GROUP BY tenant_id, sink_id) y
      WHERE k.id = y.sink_id AND k.tenant_id = y.tenant_id
      RETURNING 1)
   SELECT count(*)::integer FROM d $$;

-- The owner renews the leases of the batches it holds; returns the ones it may keep sending. A
-- batch missing here was converted by a sweeper after its lease ran out, or its sink was deleted,
-- paused or disabled meanwhile: the owner drops it (a paused sink's rows are then converted once
-- their lease runs out and wait, PENDING, as the leased path's do).
CREATE FUNCTION app_webhook_parts_renew(p_owner text, p_batch_ids uuid[], p_lease_ms integer)
RETURNS TABLE (batch_id uuid)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public AS
$$ UPDATE webhook_batch_parts p
      SET lease_until = now() + make_interval(secs => greatest(p_lease_ms, 1) / 1000.0)
     FROM stream_sinks k
    WHERE p.owner = p_owner AND p.batch_id = ANY(p_batch_ids)
      AND k.id = p.sink_id AND k.tenant_id = p.tenant_id AND k.status = 'ACTIVE'
   RETURNING p.batch_id $$;

-- Converts journal batches of one sink into PENDING deliveries rows (one per event, with the seq
-- reserved for it and its part's created_at), due now, and deletes them from the journal. Batches
-- in p_keep may have gone out already: they keep their batch id on every row and the member list
-- on their head, exactly as a leased batch (app_delivery_batches_take), so their retry carries the
-- same webhook-id and the same body; they are due after p_hold_ms (the caller that saw the attempt
-- fail records its outcome, and so its retry time, right after). Returns the kept batches as take()
-- would (ids in seq order).
CREATE FUNCTION app_webhook_parts_convert(p_tenant_id uuid, p_sink_id uuid, p_batch_ids uuid[], p_keep uuid[],
                                          p_hold_ms integer DEFAULT 0)
RETURNS TABLE (batch_id uuid, delivery_ids text, events text, newest timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public AS
$$
BEGIN
  WITH parts AS (
    DELETE FROM webhook_batch_parts p
     WHERE p.tenant_id = p_tenant_id AND p.sink_id = p_sink_id AND p.batch_id = ANY(p_batch_ids)
    RETURNING p.*)
  INSERT INTO deliveries (id, tenant_id, sink_id, event_id, topic, type, payload, raw_payload, ordering_key, seq,
                          batch_id, next_attempt_at, created_at, updated_at)
  SELECT gen_random_uuid(), p_tenant_id, p_sink_id, e.event_id, parts.topic, e.type, e.payload::jsonb, e.payload,
         e.ordering_key, e.seq, CASE WHEN parts.batch_id = ANY(p_keep) THEN parts.batch_id END,
         CASE WHEN parts.batch_id = ANY(p_keep) THEN now() + make_interval(secs => greatest(p_hold_ms, 0) / 1000.0)
              ELSE now() END,
         parts.created_at, now()
    FROM parts CROSS JOIN LATERAL unnest(parts.event_ids, parts.types, parts.ordering_keys, parts.payloads, parts.seqs)
                                  AS e(event_id, type, ordering_key, payload, seq)
   ORDER BY e.seq
  ON CONFLICT (tenant_id, sink_id, event_id) DO NOTHING;
  RETURN QUERY
    WITH m AS (
      SELECT d.batch_id, array_agg(d.id ORDER BY d.seq) AS ids, min(d.seq) AS head,
             '[' || string_agg(coalesce(d.raw_payload, d.payload::text), ',' ORDER BY d.seq) || ']' AS events,
             max(d.created_at) AS newest
        FROM deliveries d
       WHERE d.sink_id = p_sink_id AND d.tenant_id = p_tenant_id AND d.status = 'PENDING'
         AND d.batch_id = ANY(p_keep)
       GROUP BY d.batch_id),
    u AS (
      UPDATE deliveries d SET batch_members = m.ids FROM m
       WHERE d.sink_id = p_sink_id AND d.seq = m.head AND d.tenant_id = p_tenant_id
      RETURNING d.batch_id)
    SELECT m.batch_id, m.ids::text, m.events, m.newest FROM m;
END
$$;

-- Converts journal batches whose lease ran out (their owner died or stalled), at most p_limit
-- batches per call, each kept as a batch (it may have gone out). Returns the batches converted.
CREATE FUNCTION app_webhook_parts_sweep(p_limit integer, p_tenant_ids uuid[] DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public AS
$$
DECLARE
  b record;
  v_n integer := 0;
BEGIN
  FOR b IN
    SELECT DISTINCT p.tenant_id, p.sink_id, p.batch_id
      FROM webhook_batch_parts p
     WHERE p.lease_until <= now() AND (p_tenant_ids IS NULL OR p.tenant_id = ANY(p_tenant_ids))
     LIMIT greatest(p_limit, 1)
  LOOP
    -- One sweeper per sink at a time (another process may sweep the same rows).
    CONTINUE WHEN NOT pg_try_advisory_xact_lock(hashtext('lt.webhook_parts.sweep:' || b.sink_id::text));
    CONTINUE WHEN NOT EXISTS (SELECT 1 FROM webhook_batch_parts p
                               WHERE p.sink_id = b.sink_id AND p.batch_id = b.batch_id AND p.lease_until <= now());
    PERFORM app_webhook_parts_convert(b.tenant_id, b.sink_id, ARRAY[b.batch_id], ARRAY[b.batch_id], 0);
    v_n := v_n + 1;
  END LOOP;
  RETURN v_n;
END
$$;

-- take() as in 20261201020000_batch_head_lease, with two changes: a sink that still has journal
-- rows under a live lease is skipped (a direct batch in some process may hold older events of a
-- session than its PENDING rows), and a converted row's events go out as their kept text.
CREATE OR REPLACE FUNCTION app_delivery_batches_take(p_sinks integer, p_lease_ms integer, p_tenant_ids uuid[] DEFAULT NULL)
RETURNS TABLE (tenant_id uuid, sink_id uuid, batch_id uuid, attempts integer, delivery_ids text, events text,
               newest timestamptz, url text, secret_enc text, previous_secret_enc text,
               previous_secret_expires_at timestamptz, failing_since timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public AS
$$
DECLARE
  s record;
  h record;
  v_batch uuid;
  v_ids uuid[];
  v_taken integer := 0;
  v_until timestamptz := now() + make_interval(secs => greatest(p_lease_ms, 1) / 1000.0);
BEGIN
  FOR s IN
    SELECT k.id, k.tenant_id, k.batch_max_events, k.batch_max_wait_ms, k.url, k.secret_enc, k.previous_secret_enc,
           k.previous_secret_expires_at, k.failing_since, hd.seq AS head_seq
      FROM stream_sinks k
      CROSS JOIN LATERAL (SELECT d.seq FROM deliveries d
                           WHERE d.sink_id = k.id AND d.status = 'PENDING'
                           ORDER BY d.seq LIMIT 1) hd
     WHERE k.status = 'ACTIVE' AND k.batch_max_events IS NOT NULL
       AND (p_tenant_ids IS NULL OR k.tenant_id = ANY(p_tenant_ids))
     ORDER BY hd.seq
  LOOP
    EXIT WHEN v_taken >= greatest(p_sinks, 1);
    -- A direct batch still held by a live process goes first.
    CONTINUE WHEN EXISTS (SELECT 1 FROM webhook_batch_parts p WHERE p.sink_id = s.id AND p.lease_until > now());
    -- Another dispatcher is leasing this sink right now: leave it to that one.
    CONTINUE WHEN NOT pg_try_advisory_xact_lock(hashtext('lt.deliveries.batch:' || s.id::text));
    SELECT d.id, d.batch_id, d.batch_members, d.next_attempt_at, d.created_at, d.attempts INTO h
      FROM deliveries d WHERE d.sink_id = s.id AND d.status = 'PENDING' ORDER BY d.seq LIMIT 1;
    CONTINUE WHEN h.id IS NULL OR coalesce(h.next_attempt_at, '-infinity') > now();
    IF h.batch_id IS NOT NULL THEN
      v_batch := h.batch_id;
      SELECT array_agg(d.id ORDER BY d.seq) INTO v_ids FROM deliveries d
       WHERE d.sink_id = s.id AND d.status = 'PENDING'
         AND (d.id = ANY(coalesce(h.batch_members, '{}')) OR d.batch_id = v_batch);
      UPDATE deliveries d SET next_attempt_at = v_until, batch_members = v_ids WHERE d.id = h.id;
    ELSE
      -- The run of rows without a batch_id from the head on (stops at the first row that has one).
      SELECT array_agg(x.id ORDER BY x.seq) INTO v_ids FROM (
        SELECT y.id, y.seq, count(y.batch_id) OVER (ORDER BY y.seq) AS batched FROM (
          SELECT d.id, d.seq, d.batch_id FROM deliveries d
           WHERE d.sink_id = s.id AND d.status = 'PENDING'
           ORDER BY d.seq LIMIT s.batch_max_events) y) x
       WHERE x.batched = 0;
      CONTINUE WHEN NOT (coalesce(array_length(v_ids, 1), 0) >= s.batch_max_events
              OR h.created_at <= now() - make_interval(secs => s.batch_max_wait_ms / 1000.0));
      v_batch := gen_random_uuid();
      UPDATE deliveries d SET batch_id = v_batch, batch_members = v_ids, next_attempt_at = v_until
       WHERE d.id = h.id;
    END IF;
    v_taken := v_taken + 1;
    RETURN QUERY
      SELECT s.tenant_id, s.id, v_batch, h.attempts, v_ids::text,
             '[' || string_agg(coalesce(d.raw_payload, d.payload::text), ',' ORDER BY d.seq) || ']',
             max(d.created_at), s.url, s.secret_enc, s.previous_secret_enc, s.previous_secret_expires_at,
             s.failing_since
        FROM deliveries d WHERE d.id = ANY(v_ids) AND d.tenant_id = s.tenant_id;
  END LOOP;
END
$$;

REVOKE ALL ON FUNCTION app_webhook_parts_delivered(uuid[], uuid[], uuid[], integer[]),
  app_webhook_parts_renew(text, uuid[], integer), app_webhook_parts_convert(uuid, uuid, uuid[], uuid[], integer),
  app_webhook_parts_sweep(integer, uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_webhook_parts_delivered(uuid[], uuid[], uuid[], integer[]),
  app_webhook_parts_renew(text, uuid[], integer), app_webhook_parts_convert(uuid, uuid, uuid[], uuid[], integer),
  app_webhook_parts_sweep(integer, uuid[]) TO lt_app;
