-- With batched sinks dispatched straight from the consumer, `deliveries` holds rows only while
-- something failed, so a backlog after an outage lands on a table whose statistics say it is
-- nearly empty (or that was never analyzed). app_delivery_batch_delivered then updated a batch's
-- 1,000 members through the (tenant_id, sink_id, status, created_at) index, estimated at one row,
-- reading every PENDING row of the tenant and filtering by id: 220-300 ms per batch with 50,000
-- PENDING (auto_explain, generic plan), and a 100,000-event backlog drained at 2,769-3,238
-- events/s instead of 14,000-25,000 on a fresh database. The member rows are found by primary key
-- whatever the statistics: the tenant and status checks stay, written so no index is chosen for
-- them (`IS TRUE`: same result, both sides are never NULL). Same behaviour, same signature.
CREATE OR REPLACE FUNCTION app_delivery_batch_delivered(p_tenant_id uuid, p_batch_id uuid, p_ids uuid[], p_code integer,
                                                        p_body text)
RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public AS
$$ WITH u AS (
     UPDATE deliveries d
        SET status = 'DELIVERED', attempts = d.attempts + 1, last_status_code = p_code, last_error = NULL,
            response_body = p_body, delivered_at = now(), next_attempt_at = NULL, updated_at = now(),
            batch_id = p_batch_id, batch_members = NULL
      WHERE d.id = ANY(p_ids) AND (d.tenant_id = p_tenant_id) IS TRUE AND (d.status = 'PENDING') IS TRUE
      RETURNING d.sink_id),
   s AS (
     UPDATE stream_sinks k SET failing_since = NULL, updated_at = now()
      WHERE k.tenant_id = p_tenant_id AND k.id IN (SELECT DISTINCT sink_id FROM u) AND k.failing_since IS NOT NULL
      RETURNING 1)
   SELECT count(*)::integer FROM u $$;

-- The conversion, with the same care: the kept batches' rows are found by (tenant_id, batch_id),
-- their heads by primary key (not by scanning the sink's PENDING rows, a backlog during an outage).
CREATE OR REPLACE FUNCTION app_webhook_parts_convert(p_tenant_id uuid, p_sink_id uuid, p_batch_ids uuid[],
                                                     p_keep uuid[], p_hold_ms integer DEFAULT 0)
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
      SELECT d.batch_id, array_agg(d.id ORDER BY d.seq) AS ids,
             '[' || string_agg(coalesce(d.raw_payload, d.payload::text), ',' ORDER BY d.seq) || ']' AS events,
             max(d.created_at) AS newest
        FROM deliveries d
       WHERE d.tenant_id = p_tenant_id AND d.batch_id = ANY(p_keep)
         AND (d.sink_id = p_sink_id) IS TRUE AND (d.status = 'PENDING') IS TRUE
       GROUP BY d.batch_id),
    u AS (
      UPDATE deliveries d SET batch_members = m.ids FROM m
       WHERE d.id = m.ids[1] AND (d.tenant_id = p_tenant_id) IS TRUE
      RETURNING d.batch_id)
    SELECT m.batch_id, m.ids::text, m.events, m.newest FROM m;
END
$$;

-- take(): on such a table its generic plan read a sink's run (ORDER BY seq LIMIT batch_max_events)
-- by a bitmap scan of ALL the sink's PENDING rows and a sort (372 ms with 47,000 PENDING) instead
-- of walking the (sink_id, seq) index and stopping after the batch. Plain index scans only.
ALTER FUNCTION app_delivery_batches_take(integer, integer, uuid[]) SET enable_bitmapscan = off;
ALTER FUNCTION app_delivery_batches_take(integer, integer, uuid[]) SET enable_seqscan = off;
