-- Fleet history: per-tenant ingest filters and retention, maintained device state and session
-- summaries (both updated in the point-write transaction, so reads never scan points), and an index
-- for the retention job's bounded deletes. Runs as the owner (lt_owner).

-- Tenant settings (updateTenant, TENANT_ADMIN). NULL / false: nothing filtered, platform retention.
ALTER TABLE "tenants"
  ADD COLUMN "retention_days" INTEGER,
  ADD COLUMN "max_accuracy_meters" DOUBLE PRECISION,
  ADD COLUMN "max_speed_mps" DOUBLE PRECISION,
  ADD COLUMN "drop_duplicates" BOOLEAN NOT NULL DEFAULT false;

-- One row per (user, device id) of the tenant: a device as its user sees it (a MEMBER never sees
-- another member's points through a shared device id). Sessions without a device id have none.
CREATE TABLE "devices" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "tenant_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "device_id" TEXT NOT NULL,
    "active_session_id" UUID,
    "last_session_id" UUID,
    -- A copy of the newest point (by recordedAt), so it survives point expiry.
    "last_point" JSONB,
    "last_recorded_at" TIMESTAMPTZ(3),
    -- The device's last contact: a session start or a point write (received time).
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "devices_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "devices_tenant_id_user_id_device_id_key" ON "devices"("tenant_id", "user_id", "device_id");
-- The devices connection: newest seen first (keyset on last_seen_at, id).
CREATE INDEX "devices_tenant_id_last_seen_at_idx" ON "devices"("tenant_id", "last_seen_at" DESC, "id" DESC);
ALTER TABLE "devices" ADD CONSTRAINT "devices_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE;
ALTER TABLE "devices" ADD CONSTRAINT "devices_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE;

-- The running summary of a session: a fold over its points in recordedAt order (see the location
-- subgraph's fleet/summary.ts). `state` holds the fold's open stop candidate and the completed
-- stops; totals are columns.
CREATE TABLE "session_summaries" (
    "session_id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "point_count" INTEGER NOT NULL DEFAULT 0,
    "first_at" TIMESTAMPTZ(3),
    "last_at" TIMESTAMPTZ(3),
    "distance_m" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "max_speed" DOUBLE PRECISION,
    "state" JSONB NOT NULL DEFAULT '{}',
    -- Retention: points of this session recorded before it are gone.
    "expired_before" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "session_summaries_pkey" PRIMARY KEY ("session_id")
);
CREATE INDEX "session_summaries_tenant_id_first_at_idx" ON "session_summaries"("tenant_id", "first_at");
ALTER TABLE "session_summaries" ADD CONSTRAINT "session_summaries_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "location_sessions"("id") ON DELETE CASCADE;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['devices','session_summaries'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING ("tenant_id" = (SELECT app_current_tenant())) '
                   'WITH CHECK ("tenant_id" = (SELECT app_current_tenant()))', t);
  END LOOP;
END $$;
GRANT SELECT, INSERT, UPDATE, DELETE ON "devices", "session_summaries" TO lt_app;

-- Retention: which tenants to expire, asked before any tenant is set (the job runs for all).
CREATE FUNCTION app_retention_tenants() RETURNS TABLE (tenant_id uuid, retention_days integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS
$$ SELECT id, retention_days FROM tenants $$;
REVOKE ALL ON FUNCTION app_retention_tenants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_retention_tenants() TO lt_app;

-- Existing sessions (O(sessions), no point scan): their summary is rebuilt from their points once,
-- on first read or write (state.rebuild); devices start from each session's denormalised last point.
INSERT INTO "session_summaries" ("session_id", "tenant_id", "point_count", "first_at", "state")
SELECT "id", "tenant_id", "point_count", "started_at", '{"rebuild": true}'::jsonb FROM "location_sessions";

INSERT INTO "devices" ("tenant_id", "user_id", "device_id", "active_session_id", "last_session_id", "last_point",
                       "last_recorded_at", "last_seen_at")
SELECT DISTINCT ON (s."tenant_id", s."user_id", s."device_id")
       s."tenant_id", s."user_id", s."device_id",
       CASE WHEN s."status" = 'ACTIVE' THEN s."id" END, s."id",
       CASE WHEN p."id" IS NOT NULL THEN jsonb_build_object(
         'id', p."id", 'latitude', p."latitude", 'longitude', p."longitude", 'accuracy', p."accuracy",
         'altitude', p."altitude", 'speed', p."speed", 'heading', p."heading",
         'recordedAt', to_char(p."recorded_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
         'receivedAt', to_char(p."received_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) END,
       p."recorded_at", coalesce(p."received_at", s."started_at")
  FROM "location_sessions" s LEFT JOIN "location_points" p ON p."id" = s."last_point_id"
 WHERE s."device_id" IS NOT NULL
 ORDER BY s."tenant_id", s."user_id", s."device_id", s."started_at" DESC;
