-- The relay reads a batch as one row: the messages (topic, key, tenant, type, envelope text) as one
-- JSON array in seq order, so the client decodes one string instead of thousands of rows, and the
-- envelope is built here (its key order fixed: id, type, tenantId, occurredAt, data). Rows with
-- seq in [p_skip_lo, p_skip_hi] are left out: the batch still being published in the same
-- transaction (the relay reads the next batch while it sends the current one). Same advisory lock
-- as app_outbox_claim (re-entrant within the transaction), so one relay per scope at a time.
CREATE FUNCTION app_outbox_read(p_limit integer, p_skip_lo bigint, p_skip_hi bigint,
                                p_tenant_ids uuid[] DEFAULT NULL)
RETURNS TABLE (n integer, lo bigint, hi bigint, ids uuid[], messages text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public AS
$$
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtext('lt.outbox.relay:' || coalesce(
       (SELECT string_agg(t::text, ',' ORDER BY t) FROM unnest(p_tenant_ids) t), '*'))) THEN
    RETURN QUERY SELECT 0, NULL::bigint, NULL::bigint, NULL::uuid[], NULL::text;
    RETURN;
  END IF;
  RETURN QUERY
    SELECT count(*)::integer, min(b.seq), max(b.seq), array_agg(b.id ORDER BY b.seq),
           json_agg(json_build_array(b.topic, b.key, b.tenant_id, b.type,
             json_build_object('id', b.id, 'type', b.type, 'tenantId', b.tenant_id,
               'occurredAt', to_char(b.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'data', b.payload)::text) ORDER BY b.seq)::text
      FROM (SELECT o.id, o.seq, o.tenant_id, o.topic, o.key, o.type, o.payload, o.occurred_at
              FROM outbox o
             WHERE o.sent_at IS NULL AND (p_tenant_ids IS NULL OR o.tenant_id = ANY(p_tenant_ids))
               AND NOT (o.seq BETWEEN coalesce(p_skip_lo, 0) AND coalesce(p_skip_hi, -1))
             ORDER BY o.seq
             LIMIT least(greatest(p_limit, 1), 10000)) b;
END
$$;

REVOKE ALL ON FUNCTION app_outbox_read(integer, bigint, bigint, uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_outbox_read(integer, bigint, bigint, uuid[]) TO lt_app;
