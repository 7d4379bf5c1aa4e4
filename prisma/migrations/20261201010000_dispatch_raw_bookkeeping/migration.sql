-- Dispatch bookkeeping in single statements (no per-delivery load, no interactive transaction for
-- a success). The ids passed in come from the leases below; each function matches tenant_id too.

-- Unbatched sinks: app_deliveries_lease plus what the attempt needs (payload, sink URL, secrets,
-- failure window), so an attempt needs no second read.
CREATE FUNCTION app_deliveries_lease_full(p_limit integer, p_lease_ms integer, p_tenant_ids uuid[] DEFAULT NULL)
RETURNS TABLE (tenant_id uuid, sink_id uuid, delivery_id uuid, event_id uuid, attempts integer, payload text,
               url text, secret_enc text, previous_secret_enc text, previous_secret_expires_at timestamptz,
               failing_since timestamptz)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public AS
$$ WITH l AS (SELECT * FROM app_deliveries_lease(p_limit, p_lease_ms, p_tenant_ids))
   SELECT d.tenant_id, d.sink_id, d.id, d.event_id, d.attempts, d.payload::text, s.url, s.secret_enc,
          s.previous_secret_enc, s.previous_secret_expires_at, s.failing_since
     FROM l JOIN deliveries d ON d.id = l.delivery_id AND d.tenant_id = l.tenant_id
            JOIN stream_sinks s ON s.id = l.sink_id AND s.tenant_id = l.tenant_id $$;

-- Batched sinks: app_delivery_batches_lease as one row per batch, the events already joined into
-- the JSON array of the request body (in seq order), with the sink's URL and secrets.
CREATE FUNCTION app_delivery_batches_lease_full(p_sinks integer, p_lease_ms integer, p_tenant_ids uuid[] DEFAULT NULL)
RETURNS TABLE (tenant_id uuid, sink_id uuid, batch_id uuid, attempts integer, delivery_ids text, events text,
               newest timestamptz, url text, secret_enc text, previous_secret_enc text,
               previous_secret_expires_at timestamptz, failing_since timestamptz)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public AS
$$ WITH l AS (SELECT * FROM app_delivery_batches_lease(p_sinks, p_lease_ms, p_tenant_ids))
   SELECT l.tenant_id, l.sink_id, l.batch_id, max(l.attempts), array_agg(l.delivery_id ORDER BY l.seq)::text,
          '[' || string_agg(l.payload, ',' ORDER BY l.seq) || ']', max(l.created_at), s.url, s.secret_enc,
          s.previous_secret_enc, s.previous_secret_expires_at, s.failing_since
     FROM l JOIN stream_sinks s ON s.id = l.sink_id AND s.tenant_id = l.tenant_id
    GROUP BY l.tenant_id, l.sink_id, l.batch_id, s.url, s.secret_enc, s.previous_secret_enc,
             s.previous_secret_expires_at, s.failing_since $$;

-- Successful attempts, many at once: DELIVERED (attempts + 1, status code, kept response body) and
-- the sinks' failure window closed. Rows no longer PENDING are left alone. Returns rows updated.
CREATE FUNCTION app_deliveries_delivered(p_ids uuid[], p_tenant_ids uuid[], p_codes integer[], p_bodies text[])
RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public AS
$$ WITH u AS (
     UPDATE deliveries d
        SET status = 'DELIVERED', attempts = d.attempts + 1, last_status_code = x.code, last_error = NULL,
            response_body = x.body, delivered_at = now(), next_attempt_at = NULL, updated_at = now()
       FROM unnest(p_ids, p_tenant_ids, p_codes, p_bodies) AS x(id, tenant_id, code, body)
      WHERE d.id = x.id AND d.tenant_id = x.tenant_id AND d.status = 'PENDING'
      RETURNING d.sink_id, d.tenant_id),
   s AS (
     UPDATE stream_sinks k SET failing_since = NULL, updated_at = now()
      WHERE (k.id, k.tenant_id) IN (SELECT DISTINCT sink_id, tenant_id FROM u) AND k.failing_since IS NOT NULL
      RETURNING 1)
   SELECT count(*)::integer FROM u $$;

REVOKE ALL ON FUNCTION app_deliveries_lease_full(integer, integer, uuid[]),
  app_delivery_batches_lease_full(integer, integer, uuid[]),
  app_deliveries_delivered(uuid[], uuid[], integer[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_deliveries_lease_full(integer, integer, uuid[]),
  app_delivery_batches_lease_full(integer, integer, uuid[]),
  app_deliveries_delivered(uuid[], uuid[], integer[], text[]) TO lt_app;
