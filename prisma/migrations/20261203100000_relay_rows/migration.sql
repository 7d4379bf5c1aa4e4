-- The relay's read as plain rows instead of one JSON document.
--
-- app_outbox_next (kept for relays of the previous version during a rolling deploy) builds every
-- envelope with json functions and aggregates the batch into one JSON text (2.3 MB per 5,000
-- location rows), which the relay parses again. app_outbox_next_rows returns the same batch, in the
-- same (txid, seq) order under the same advisory lock, as one row per outbox row with the payload
-- as jsonb text; the relay builds the envelope around it. `final` marks the rows the cursor may pass
-- (their transaction is older than the read's snapshot xmin, and p_mark_all is false): they are a
-- prefix of the batch (rows are ordered by txid). The other rows are the tail, marked sent one by
-- one. Another relay holding the scope's lock gets no rows. In a tenant's transaction (app.tenant_id
-- set) only that tenant's rows, whatever scope is asked (the relay itself runs without a tenant).
CREATE FUNCTION app_outbox_next_rows(p_limit integer, p_after_txid xid8, p_after_seq bigint, p_mark_all boolean,
                                     p_tenant_ids uuid[] DEFAULT NULL)
RETURNS TABLE (id uuid, txid xid8, seq bigint, final boolean, tenant_id uuid, topic text, key text, type text,
               occurred_at_ms bigint, payload text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public AS
$$
DECLARE
  v_scope text := app_outbox_scope(p_tenant_ids);
  v_txid xid8 := p_after_txid;
  v_seq bigint := p_after_seq;
  v_xmin xid8;
  v_tenant uuid := app_current_tenant();
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtext('lt.outbox.relay:' || v_scope)) THEN
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
    SELECT o.id, o.txid, o.seq, (o.txid < v_xmin AND NOT p_mark_all), o.tenant_id, o.topic, o.key, o.type,
           (extract(epoch FROM o.occurred_at) * 1000)::bigint, o.payload::text
      FROM outbox o
     WHERE (o.txid, o.seq) > (v_txid, v_seq) AND o.sent_at IS NULL
       AND (p_tenant_ids IS NULL OR o.tenant_id = ANY(p_tenant_ids))
       AND (v_tenant IS NULL OR o.tenant_id = v_tenant)
     ORDER BY o.txid, o.seq
     LIMIT least(greatest(p_limit, 1), 20000);
END
$$;

REVOKE ALL ON FUNCTION app_outbox_next_rows(integer, xid8, bigint, boolean, uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_outbox_next_rows(integer, xid8, bigint, boolean, uuid[]) TO lt_app;

-- Whether the scope has rows to publish (unsent rows past its cursor): one cheap statement outside
-- a transaction, so a relay polling an empty outbox does not open a transaction, take the lock and
-- call app_outbox_next_rows every time. A row committed right after it is found by the next poll.
-- In a tenant's transaction only that tenant's rows count.
CREATE FUNCTION app_outbox_pending(p_tenant_ids uuid[] DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS
$$
DECLARE
  v_txid xid8;
  v_seq bigint;
  v_tenant uuid := app_current_tenant();
BEGIN
  SELECT c.txid, c.seq INTO v_txid, v_seq FROM outbox_relay_cursors c WHERE c.scope = app_outbox_scope(p_tenant_ids);
  RETURN EXISTS (
    SELECT 1 FROM outbox o
     WHERE (o.txid, o.seq) > (coalesce(v_txid, '0'::xid8), coalesce(v_seq, 0)) AND o.sent_at IS NULL
       AND (p_tenant_ids IS NULL OR o.tenant_id = ANY(p_tenant_ids))
       AND (v_tenant IS NULL OR o.tenant_id = v_tenant));
END
$$;

REVOKE ALL ON FUNCTION app_outbox_pending(uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_outbox_pending(uuid[]) TO lt_app;
