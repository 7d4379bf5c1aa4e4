-- Batched sinks: a batch costs one row write to lease instead of one per event. The batch id (its
-- webhook-id), the lease and the member ids are written on the batch's head row only; the other
-- rows are written again once, when the attempt is recorded (success: DELIVERED with the batch id;
-- failure: attempts, error and the batch id on every member, the rare path). Every event of a
-- batched sink is now written twice (parked, recorded) instead of three times.

-- On a batch's head row while the batch is open: the ids of its deliveries, in seq order (fixed
-- at the first attempt, so every retry sends the same events under the same webhook-id).
ALTER TABLE "deliveries" ADD COLUMN "batch_members" UUID[];

-- Leases the next batch of up to p_sinks ACTIVE batched sinks, oldest head first (one batch per
-- sink per call, so a sink's backlog never crowds out another sink; one batch in flight per sink,
-- since its leased head blocks the sink). A head that has a batch_id is retried as exactly that
-- batch: the PENDING rows listed in its batch_members, or (after a failure was recorded, or a
-- replay) carrying its batch_id. Otherwise up to batch_max_events PENDING rows without a batch_id
-- from the head on form a new batch, once there are that many, or the oldest has waited
-- batch_max_wait_ms. One row per batch: the events joined
-- into the JSON array of the request body (seq order), with the sink's URL and secrets.
CREATE FUNCTION app_delivery_batches_take(p_sinks integer, p_lease_ms integer, p_tenant_ids uuid[] DEFAULT NULL)
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
             '[' || string_agg(d.payload::text, ',' ORDER BY d.seq) || ']', max(d.created_at), s.url,
             s.secret_enc, s.previous_secret_enc, s.previous_secret_expires_at, s.failing_since
        FROM deliveries d WHERE d.id = ANY(v_ids) AND d.tenant_id = s.tenant_id;
  END LOOP;
END
$$;

-- A batch's success: its deliveries DELIVERED under its batch id (attempts + 1, status code, kept
-- response body), the head's member list cleared, the sink's failure window closed. Rows no longer
-- PENDING are left alone. Returns rows updated.
CREATE FUNCTION app_delivery_batch_delivered(p_tenant_id uuid, p_batch_id uuid, p_ids uuid[], p_code integer,
                                             p_body text)
RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public AS
$$ WITH u AS (
     UPDATE deliveries d
        SET status = 'DELIVERED', attempts = d.attempts + 1, last_status_code = p_code, last_error = NULL,
            response_body = p_body, delivered_at = now(), next_attempt_at = NULL, updated_at = now(),
            batch_id = p_batch_id, batch_members = NULL
      WHERE d.id = ANY(p_ids) AND d.tenant_id = p_tenant_id AND d.status = 'PENDING'
      RETURNING d.sink_id),
   s AS (
     UPDATE stream_sinks k SET failing_since = NULL, updated_at = now()
      WHERE k.tenant_id = p_tenant_id AND k.id IN (SELECT DISTINCT sink_id FROM u) AND k.failing_since IS NOT NULL
      RETURNING 1)
   SELECT count(*)::integer FROM u $$;

REVOKE ALL ON FUNCTION app_delivery_batches_take(integer, integer, uuid[]),
  app_delivery_batch_delivered(uuid, uuid, uuid[], integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_delivery_batches_take(integer, integer, uuid[]),
  app_delivery_batch_delivered(uuid, uuid, uuid[], integer, text) TO lt_app;
