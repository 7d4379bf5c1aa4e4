-- Streaming pipeline (issue #6): the outbox relay's cross-tenant paths and per-session delivery order.
-- Runs as the owner (lt_owner, BYPASSRLS), so the SECURITY DEFINER functions below see every tenant;
-- each does one narrow thing and returns no more than its caller needs.

-- ───────────── Deliveries: per-session order to a sink ─────────────
-- ordering_key = the Kafka key (tenantId:sessionId); seq = insertion order. Only the oldest PENDING
-- delivery of a (sink, ordering_key) chain is ever attempted, so retries never reorder a session.
ALTER TABLE "deliveries" ADD COLUMN "ordering_key" TEXT NOT NULL DEFAULT '';
ALTER TABLE "deliveries" ADD COLUMN "seq" BIGSERIAL NOT NULL;
CREATE INDEX "deliveries_pending_chain_idx" ON "deliveries"("sink_id", "ordering_key", "seq")
  WHERE "status" = 'PENDING';
GRANT USAGE, SELECT ON SEQUENCE "deliveries_seq_seq" TO lt_app;

-- ───────────── Outbox relay ─────────────
-- One relay publishes at a time: the claim takes a transaction-level advisory lock, held while the
-- relay publishes the batch and marks it sent in the same transaction; other relays get no rows and
-- stand by. Why not SKIP LOCKED alone: two relays claiming disjoint batches by seq race each other
-- to Kafka, so a key's later event could be published before its earlier one.
-- p_tenant_ids (NULL in production) scopes a relay to some tenants, with its own lock: tests run
-- several relays on one database without taking each other's rows.
CREATE FUNCTION app_outbox_claim(p_limit integer, p_tenant_ids uuid[] DEFAULT NULL)
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
     LIMIT least(greatest(p_limit, 1), 1000)
       FOR UPDATE SKIP LOCKED;
END
$$;

CREATE FUNCTION app_outbox_mark_sent(p_ids uuid[]) RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public AS
$$ WITH u AS (UPDATE outbox SET sent_at = now(), attempts = attempts + 1, updated_at = now()
               WHERE id = ANY(p_ids) AND sent_at IS NULL RETURNING 1)
   SELECT count(*)::integer FROM u $$;

-- Deletes sent rows older than the retention, at most p_limit per call.
CREATE FUNCTION app_outbox_cleanup(p_retention_seconds integer, p_limit integer) RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public AS
$$ WITH d AS (DELETE FROM outbox WHERE id IN (
                SELECT id FROM outbox
                 WHERE sent_at IS NOT NULL
                   AND sent_at < now() - make_interval(secs => greatest(p_retention_seconds, 0))
                 LIMIT least(greatest(p_limit, 1), 10000)) RETURNING 1)
   SELECT count(*)::integer FROM d $$;

-- Relay lag across tenants: unsent rows and the oldest one's age (PLATFORM_ADMIN status, metrics).
CREATE FUNCTION app_outbox_backlog() RETURNS TABLE (unsent bigint, oldest_unsent_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS
$$ SELECT count(*), min(created_at) FROM outbox WHERE sent_at IS NULL $$;

-- ───────────── Delivery dispatcher ─────────────
-- Leases the due head of each (sink, ordering_key) chain of ACTIVE sinks: pushes next_attempt_at
-- forward by the lease so no other dispatcher takes it meanwhile (a crashed attempt is retried after
-- the lease, with the same webhook-id). Returns only ids; the attempt itself runs under withTenant.
-- p_tenant_ids: as for app_outbox_claim (NULL = every tenant).
CREATE FUNCTION app_deliveries_lease(p_limit integer, p_lease_ms integer, p_tenant_ids uuid[] DEFAULT NULL)
RETURNS TABLE (tenant_id uuid, sink_id uuid, delivery_id uuid)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public AS
$$ WITH heads AS (
     SELECT DISTINCT ON (d.sink_id, d.ordering_key) d.id, d.next_attempt_at, d.seq
       FROM deliveries d JOIN stream_sinks s ON s.id = d.sink_id AND s.status = 'ACTIVE'
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

REVOKE ALL ON FUNCTION app_outbox_claim(integer, uuid[]), app_outbox_mark_sent(uuid[]),
  app_outbox_cleanup(integer, integer), app_outbox_backlog(), app_deliveries_lease(integer, integer, uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_outbox_claim(integer, uuid[]), app_outbox_mark_sent(uuid[]),
  app_outbox_cleanup(integer, integer), app_outbox_backlog(), app_deliveries_lease(integer, integer, uuid[]) TO lt_app;
