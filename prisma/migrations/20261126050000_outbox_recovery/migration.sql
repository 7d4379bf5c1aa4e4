-- Recovery for the in-process event log (`npm start`): rows the relay published to the log (sent)
-- that the webhook consumer never parked (no processed_events row), because the process stopped
-- or crashed in between. The embedded pipeline republishes them at start; the consumer
-- deduplicates by event id. Sent rows live for the relay's retention (1 day by default).
-- p_topics: the consumer's topics (unprefixed names as stored). p_after_seq: paging.
CREATE FUNCTION app_outbox_unconsumed(p_consumer text, p_topics text[], p_after_seq bigint, p_limit integer,
                                      p_tenant_ids uuid[] DEFAULT NULL)
RETURNS TABLE (id uuid, seq bigint, tenant_id uuid, topic text, key text, type text, payload jsonb,
               occurred_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS
$$ SELECT o.id, o.seq, o.tenant_id, o.topic, o.key, o.type, o.payload, o.occurred_at
     FROM outbox o
    WHERE o.sent_at IS NOT NULL AND o.seq > p_after_seq AND o.topic = ANY(p_topics)
      AND (p_tenant_ids IS NULL OR o.tenant_id = ANY(p_tenant_ids))
      AND NOT EXISTS (SELECT 1 FROM processed_events pe
                       WHERE pe.tenant_id = o.tenant_id AND pe.consumer = p_consumer AND pe.event_id = o.id)
    ORDER BY o.seq
    LIMIT least(greatest(p_limit, 1), 1000) $$;

REVOKE ALL ON FUNCTION app_outbox_unconsumed(text, text[], bigint, integer, uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_outbox_unconsumed(text, text[], bigint, integer, uuid[]) TO lt_app;
