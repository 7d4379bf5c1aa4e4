-- The relay keeps a cursor per scope instead of marking every published row sent.
--
-- Order: rows are published in (txid, seq) order, txid being the inserting transaction's id: rows
-- of one transaction in seq order, transactions in the order they took their id (commit order for
-- transactions that do not overlap), so each key's order is kept.
--
-- Final rows: those whose transaction is older than the reading snapshot's xmin. Every transaction
-- with a smaller id has committed or aborted and every later one gets a larger id, so no row can
-- ever appear behind the last final row read: the cursor moves there, once per published batch,
-- in the relay's transaction (a crash before that commit republishes the batch: at-least-once).
-- Rows of newer transactions that already committed while an older one is still open (the tail)
-- are published too and marked sent one by one (sent_at), so a long transaction delays nothing but
-- its own rows (it costs the per-row marks while it is open); the next transaction reads on from
-- the cursor, skipping marked rows. Read-aheads after a tail (within one relay transaction) mark
-- all their rows: the open transaction's rows may commit below them, so the cursor must not move.
--
-- A row is sent when its sent_at is set or a cursor of a scope it belongs to has passed it.

ALTER TABLE "outbox" ADD COLUMN "txid" xid8 NOT NULL DEFAULT pg_current_xact_id();
-- Replaces the (seq) index on unsent rows the previous relay read through.
CREATE INDEX "outbox_unsent_txid_seq_idx" ON "outbox"("txid", "seq") WHERE "sent_at" IS NULL;
DROP INDEX "outbox_unsent_seq_idx";

-- One row per relay scope ('*', or the sorted tenant ids a test relay is scoped to). Reached only
-- through the SECURITY DEFINER functions below (no grant to the services role).
CREATE TABLE "outbox_relay_cursors" (
    "scope" TEXT NOT NULL,
    "tenant_ids" UUID[],
    "txid" xid8 NOT NULL,
    "seq" BIGINT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    CONSTRAINT "outbox_relay_cursors_pkey" PRIMARY KEY ("scope")
);
REVOKE ALL ON "outbox_relay_cursors" FROM PUBLIC;

CREATE FUNCTION app_outbox_scope(p_tenant_ids uuid[]) RETURNS text
LANGUAGE sql IMMUTABLE AS
$$ SELECT coalesce((SELECT string_agg(t::text, ',' ORDER BY t) FROM unnest(p_tenant_ids) t), '*') $$;

-- The next batch after (p_after_txid, p_after_seq), or after the scope's cursor when they are NULL,
-- as one row: the count; the last row's (txid, seq), where a read-ahead goes on; the last final
-- row's (txid, seq), where the cursor may move once the batch is sent (NULL: none is final, or
-- p_mark_all); the ids of the tail rows (every row with p_mark_all), to be marked sent (NULL: none);
-- and the messages (topic, key, tenant, type,
-- envelope text) as one JSON array in relay order, the envelope's key order fixed (id, type,
-- tenantId, occurredAt, data). Same advisory lock as app_outbox_claim and app_outbox_read
-- (re-entrant within the transaction): one relay per scope; another one gets n = 0.
CREATE FUNCTION app_outbox_next(p_limit integer, p_after_txid xid8, p_after_seq bigint, p_mark_all boolean,
                                p_tenant_ids uuid[] DEFAULT NULL)
RETURNS TABLE (n integer, last_txid xid8, last_seq bigint, final_txid xid8, final_seq bigint, tail_ids uuid[],
               messages text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public AS
$$
DECLARE
  v_scope text := app_outbox_scope(p_tenant_ids);
  v_txid xid8 := p_after_txid;
  v_seq bigint := p_after_seq;
  v_xmin xid8;
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtext('lt.outbox.relay:' || v_scope)) THEN
    RETURN QUERY SELECT 0, NULL::xid8, NULL::bigint, NULL::xid8, NULL::bigint, NULL::uuid[], NULL::text;
    RETURN;
  END IF;
  IF v_txid IS NULL THEN
    SELECT c.txid, c.seq INTO v_txid, v_seq FROM outbox_relay_cursors c WHERE c.scope = v_scope;
  END IF;
  v_txid := coalesce(v_txid, '0'::xid8);
  v_seq := coalesce(v_seq, 0);
  -- Taken before the read's own snapshot (a later statement): every transaction below it is over
  -- in that snapshot too, so the rows below it that the read sees are all there will ever be.
  v_xmin := pg_snapshot_xmin(pg_current_snapshot());
  RETURN QUERY
    WITH b AS MATERIALIZED (
      SELECT o.id, o.txid, o.seq, o.tenant_id, o.topic, o.key, o.type, o.payload, o.occurred_at
        FROM outbox o
       WHERE (o.txid, o.seq) > (v_txid, v_seq) AND o.sent_at IS NULL
         AND (p_tenant_ids IS NULL OR o.tenant_id = ANY(p_tenant_ids))
       ORDER BY o.txid, o.seq
       LIMIT least(greatest(p_limit, 1), 20000)),
    last AS (SELECT b.txid, b.seq FROM b ORDER BY b.txid DESC, b.seq DESC LIMIT 1),
    fin AS (SELECT b.txid, b.seq FROM b WHERE b.txid < v_xmin AND NOT p_mark_all ORDER BY b.txid DESC, b.seq DESC LIMIT 1)
    SELECT count(*)::integer, (SELECT last.txid FROM last), (SELECT last.seq FROM last),
           (SELECT fin.txid FROM fin), (SELECT fin.seq FROM fin),
           array_agg(b.id ORDER BY b.txid, b.seq) FILTER (WHERE b.txid >= v_xmin OR p_mark_all),
           json_agg(json_build_array(b.topic, b.key, b.tenant_id, b.type,
             json_build_object('id', b.id, 'type', b.type, 'tenantId', b.tenant_id,
               'occurredAt', to_char(b.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'data', b.payload)::text) ORDER BY b.txid, b.seq)::text
      FROM b;
END
$$;

-- Moves the scope's cursor to (p_txid, p_seq) once the batch up to it is acknowledged; never
-- backwards. Only the holder of the scope's relay lock may (it is re-entrant in its transaction).
CREATE FUNCTION app_outbox_advance(p_txid xid8, p_seq bigint, p_tenant_ids uuid[] DEFAULT NULL) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public AS
$$
DECLARE
  v_scope text := app_outbox_scope(p_tenant_ids);
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtext('lt.outbox.relay:' || v_scope)) THEN
    RAISE EXCEPTION 'outbox relay lock for scope % is held by another relay', v_scope;
  END IF;
  INSERT INTO outbox_relay_cursors AS c (scope, tenant_ids, txid, seq)
  VALUES (v_scope, CASE WHEN p_tenant_ids IS NULL THEN NULL
                        ELSE (SELECT array_agg(t ORDER BY t) FROM unnest(p_tenant_ids) t) END, p_txid, p_seq)
  ON CONFLICT (scope) DO UPDATE SET txid = excluded.txid, seq = excluded.seq, updated_at = now()
   WHERE (c.txid, c.seq) < (excluded.txid, excluded.seq);
END
$$;

-- Unsent rows (not marked sent, passed by no cursor of a scope they belong to): one tenant's, or
-- every tenant's when p_tenant_id is NULL. Backlog figures and tests. In a tenant's transaction
-- (app.tenant_id set) only that tenant's rows, whatever is asked.
CREATE FUNCTION app_outbox_unsent(p_tenant_id uuid)
RETURNS TABLE (id uuid, created_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS
$$
DECLARE
  v_txid xid8 := '0'::xid8;
  v_seq bigint := 0;
BEGIN
  SELECT c.txid, c.seq INTO v_txid, v_seq FROM outbox_relay_cursors c WHERE c.scope = '*';
  v_txid := coalesce(v_txid, '0'::xid8);
  v_seq := coalesce(v_seq, 0);
  RETURN QUERY
    SELECT o.id, o.created_at
      FROM outbox o
     WHERE (o.txid, o.seq) > (v_txid, v_seq) AND o.sent_at IS NULL
       AND (p_tenant_id IS NULL OR o.tenant_id = p_tenant_id)
       AND (app_current_tenant() IS NULL OR o.tenant_id = app_current_tenant())
       AND NOT EXISTS (SELECT 1 FROM outbox_relay_cursors c
                        WHERE c.tenant_ids IS NOT NULL AND o.tenant_id = ANY(c.tenant_ids)
                          AND (o.txid, o.seq) <= (c.txid, c.seq));
END
$$;

CREATE OR REPLACE FUNCTION app_outbox_backlog() RETURNS TABLE (unsent bigint, oldest_unsent_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS
$$ SELECT count(*), min(u.created_at) FROM app_outbox_unsent(NULL) u $$;

-- Deletes sent rows older than the retention, at most p_limit per call.
CREATE OR REPLACE FUNCTION app_outbox_cleanup(p_retention_seconds integer, p_limit integer) RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public AS
$$ WITH d AS (DELETE FROM outbox WHERE id IN (
                SELECT o.id FROM outbox o
                 WHERE o.created_at < now() - make_interval(secs => greatest(p_retention_seconds, 0))
                   AND (o.sent_at IS NOT NULL OR EXISTS (
                         SELECT 1 FROM outbox_relay_cursors c
                          WHERE (c.tenant_ids IS NULL OR o.tenant_id = ANY(c.tenant_ids))
                            AND (o.txid, o.seq) <= (c.txid, c.seq)))
                 LIMIT least(greatest(p_limit, 1), 10000)) RETURNING 1)
   SELECT count(*)::integer FROM d $$;

-- Recovery for the in-process event log, in relay order: sent rows (as above) of the consumer's
-- topics with no processed_events row, after (p_after_txid, p_after_seq).
CREATE FUNCTION app_outbox_unconsumed(p_consumer text, p_topics text[], p_after_txid xid8, p_after_seq bigint,
                                      p_limit integer, p_tenant_ids uuid[] DEFAULT NULL)
RETURNS TABLE (id uuid, txid text, seq bigint, tenant_id uuid, topic text, key text, type text, payload jsonb,
               occurred_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS
$$ SELECT o.id, o.txid::text, o.seq, o.tenant_id, o.topic, o.key, o.type, o.payload, o.occurred_at
     FROM outbox o
    WHERE (o.txid, o.seq) > (p_after_txid, p_after_seq) AND o.topic = ANY(p_topics)
      AND (p_tenant_ids IS NULL OR o.tenant_id = ANY(p_tenant_ids))
      AND (o.sent_at IS NOT NULL OR EXISTS (
            SELECT 1 FROM outbox_relay_cursors c
             WHERE (c.tenant_ids IS NULL OR o.tenant_id = ANY(c.tenant_ids))
               AND (o.txid, o.seq) <= (c.txid, c.seq)))
      AND NOT EXISTS (SELECT 1 FROM processed_events pe
                       WHERE pe.tenant_id = o.tenant_id AND pe.consumer = p_consumer AND pe.event_id = o.id)
    ORDER BY o.txid, o.seq
    LIMIT least(greatest(p_limit, 1), 1000) $$;

REVOKE ALL ON FUNCTION app_outbox_next(integer, xid8, bigint, boolean, uuid[]), app_outbox_advance(xid8, bigint, uuid[]),
  app_outbox_unsent(uuid), app_outbox_unconsumed(text, text[], xid8, bigint, integer, uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_outbox_next(integer, xid8, bigint, boolean, uuid[]), app_outbox_advance(xid8, bigint, uuid[]),
  app_outbox_unsent(uuid), app_outbox_unconsumed(text, text[], xid8, bigint, integer, uuid[]) TO lt_app;
