-- Time-partitioned points. `location_points` becomes PARTITIONED BY RANGE (recorded_at), one
-- partition per UTC week (Monday 00:00 to the next Monday): with the default 365-day retention
-- that is ~53 partitions, few enough that lookups without the partition key (a session's last
-- point by id) and planning stay cheap, while expiry drops a week of points at a time. Points
-- outside every partition (far past or future) land in `location_points_default`.
-- Runs as the owner (lt_owner); the rows are copied, so the migration rewrites the table once.

-- The idempotency key must be unique per session across partitions, which a unique index on a
-- partitioned table cannot say without the partition key: the keys live in their own small table
-- (only keyed points have a row), claimed in the point-write statement before the point.
CREATE TABLE "location_point_keys" (
    "tenant_id" UUID NOT NULL,
    "session_id" UUID NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    -- The point's recordedAt: a retry with the key finds its point by it; retention expires by it.
    "recorded_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "location_point_keys_pkey" PRIMARY KEY ("tenant_id", "session_id", "idempotency_key")
);
ALTER TABLE "location_point_keys" ADD CONSTRAINT "location_point_keys_session_id_fkey"
  FOREIGN KEY ("session_id") REFERENCES "location_sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The old table steps aside (its indexes go: the new table has its own) and is copied at the end.
ALTER TABLE "location_points" RENAME TO "location_points_old";
ALTER TABLE "location_points_old" RENAME CONSTRAINT "location_points_pkey" TO "location_points_old_pkey";
DROP INDEX "location_points_tenant_id_session_id_recorded_at_key";
DROP INDEX "location_points_tenant_id_session_id_idempotency_key_key";
DROP INDEX "location_points_tenant_id_session_id_recorded_at_desc_idx";

CREATE TABLE "location_points" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "session_id" UUID NOT NULL,
    "latitude" DOUBLE PRECISION NOT NULL,
    "longitude" DOUBLE PRECISION NOT NULL,
    "accuracy" DOUBLE PRECISION,
    "altitude" DOUBLE PRECISION,
    "speed" DOUBLE PRECISION,
    "heading" DOUBLE PRECISION,
    "recorded_at" TIMESTAMPTZ(3) NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "idempotency_key" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
) PARTITION BY RANGE ("recorded_at");

-- (id, recorded_at): ids are random UUIDs, unique on their own; the key must hold the partition key.
ALTER TABLE "location_points" ADD CONSTRAINT "location_points_pkey" PRIMARY KEY ("id", "recorded_at");
-- One point per (session, recordedAt): retries without a key, and every newest-first read
-- (lastPoint, the points connection, summaries) walks it backwards. The former
-- (tenant, session, recorded_at DESC, id DESC) index duplicated it: recordedAt is unique per session.
CREATE UNIQUE INDEX "location_points_tenant_id_session_id_recorded_at_key" ON "location_points"("tenant_id", "session_id", "recorded_at");
ALTER TABLE "location_points" ADD CONSTRAINT "location_points_session_id_fkey"
  FOREIGN KEY ("session_id") REFERENCES "location_sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['location_points','location_point_keys'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING ("tenant_id" = (SELECT app_current_tenant())) '
                   'WITH CHECK ("tenant_id" = (SELECT app_current_tenant()))', t);
  END LOOP;
END $$;
-- The services reach points through the parent only: partitions carry no grant (and RLS besides).
GRANT SELECT, INSERT, UPDATE, DELETE ON "location_points", "location_point_keys" TO lt_app;

-- ───────────── Partition maintenance (SECURITY DEFINER: the services' role has no DDL rights) ─────────────

-- The partition for the week holding p_day: created (RLS enabled and forced, the tenant policy,
-- no grant) and attached unless it exists. It is built beside the table and ATTACHed, which takes
-- only SHARE UPDATE EXCLUSIVE on location_points (CREATE TABLE … PARTITION OF would take ACCESS
-- EXCLUSIVE); rows of its range already in the default partition move into it first.
CREATE FUNCTION app_point_partition_create(p_day date, p_lock_timeout_ms integer DEFAULT 2000) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS
$$
DECLARE
  lo date := date_trunc('week', p_day::timestamp)::date;
  name text := 'location_points_p' || to_char(date_trunc('week', p_day::timestamp), 'YYYYMMDD');
BEGIN
  IF to_regclass(name) IS NOT NULL THEN RETURN false; END IF;
  EXECUTE format('SET LOCAL lock_timeout = %s', greatest(1, p_lock_timeout_ms));
  EXECUTE format('CREATE TABLE %I (LIKE location_points INCLUDING DEFAULTS)', name);
  EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', name);
  EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', name);
  EXECUTE format('CREATE POLICY tenant_isolation ON %I USING ("tenant_id" = (SELECT app_current_tenant())) '
                 'WITH CHECK ("tenant_id" = (SELECT app_current_tenant()))', name);
  IF to_regclass('location_points_default') IS NOT NULL THEN
    LOCK TABLE location_points_default IN SHARE ROW EXCLUSIVE MODE;
    EXECUTE format('WITH m AS (DELETE FROM location_points_default WHERE recorded_at >= %L AND recorded_at < %L RETURNING *) '
                   'INSERT INTO %I SELECT * FROM m',
                   (lo::timestamp AT TIME ZONE 'UTC'), ((lo + 7)::timestamp AT TIME ZONE 'UTC'), name);
  END IF;
  EXECUTE format('ALTER TABLE location_points ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', name,
                 (lo::timestamp AT TIME ZONE 'UTC'), ((lo + 7)::timestamp AT TIME ZONE 'UTC'));
  RETURN true;
END
$$;

-- The weekly partitions of location_points with their range (the default partition is not listed).
CREATE FUNCTION app_point_partitions()
RETURNS TABLE (name text, range_start timestamptz, range_end timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS
$$ SELECT c.relname::text, (to_date(substr(c.relname, 18), 'YYYYMMDD')::timestamp AT TIME ZONE 'UTC'),
          ((to_date(substr(c.relname, 18), 'YYYYMMDD') + 7)::timestamp AT TIME ZONE 'UTC')
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'location_points'::regclass AND c.relname ~ '^location_points_p[0-9]{8}$'
    ORDER BY 2 $$;

-- Drops one weekly partition if every row in it is expired: its range ends at or before p_before
-- (the oldest cutoff of any tenant), or it is a past week holding no row at all (shorter-retention
-- tenants' rows already deleted in batches). p_before is held to at least a day in the past (the
-- shortest retention): a caller's bug cannot drop this week's points. (It gives the services'
-- role nothing it lacks: it may delete any tenant's points by naming that tenant.) DROP takes ACCESS EXCLUSIVE on location_points for the catalogue
-- change only; lock_timeout bounds the wait (the caller retries next pass). Returns the rows
-- dropped, or NULL when the partition is not (or no longer) droppable.
CREATE FUNCTION app_point_partition_drop(p_name text, p_before timestamptz, p_lock_timeout_ms integer DEFAULT 2000)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS
$$
DECLARE
  range_end timestamptz;
  busy boolean;
  n bigint;
BEGIN
  p_before := least(p_before, now() - interval '1 day');
  SELECT p.range_end INTO range_end FROM app_point_partitions() p WHERE p.name = p_name;
  IF range_end IS NULL THEN RETURN NULL; END IF;
  IF range_end > p_before THEN
    IF range_end > now() THEN RETURN NULL; END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', p_name) INTO busy;
    IF busy THEN RETURN NULL; END IF;
  END IF;
  EXECUTE format('SELECT count(*) FROM %I', p_name) INTO n;
  EXECUTE format('SET LOCAL lock_timeout = %s', greatest(1, p_lock_timeout_ms));
  EXECUTE format('DROP TABLE %I', p_name);
  RETURN n;
END
$$;

REVOKE ALL ON FUNCTION app_point_partition_create(date, integer), app_point_partitions(),
  app_point_partition_drop(text, timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_point_partition_create(date, integer), app_point_partitions(),
  app_point_partition_drop(text, timestamptz, integer) TO lt_app;

-- Out-of-range points (older or newer than every weekly partition) land here; retention deletes
-- their expired rows in batches like any other.
CREATE TABLE "location_points_default" PARTITION OF "location_points" DEFAULT;
ALTER TABLE "location_points_default" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "location_points_default" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "location_points_default" USING ("tenant_id" = (SELECT app_current_tenant()))
  WITH CHECK ("tenant_id" = (SELECT app_current_tenant()));

-- A partition for every week that has points (up to 400 days back), last week and the next four;
-- the retention job keeps creating them ahead.
SELECT app_point_partition_create(d) FROM (
  SELECT DISTINCT ("recorded_at" AT TIME ZONE 'UTC')::date AS d FROM "location_points_old"
   WHERE "recorded_at" > now() - interval '400 days' AND "recorded_at" < now() + interval '5 weeks'
  UNION SELECT (now() AT TIME ZONE 'UTC')::date + 7 * k FROM generate_series(-1, 4) k
) days ORDER BY d;

INSERT INTO "location_point_keys" ("tenant_id", "session_id", "idempotency_key", "recorded_at")
SELECT "tenant_id", "session_id", "idempotency_key", "recorded_at" FROM "location_points_old"
 WHERE "idempotency_key" IS NOT NULL;

INSERT INTO "location_points" SELECT * FROM "location_points_old";
DROP TABLE "location_points_old";
