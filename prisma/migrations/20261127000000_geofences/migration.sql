-- Geofences: circles and polygons per tenant, the per-(session, fence) visit state and the
-- per-session evaluation mark that survive restarts, the event history, and a per-tenant version row that every replica reads in the point's
-- transaction to know whether its in-process spatial index is current. All five are tenant tables:
-- tenant_id, an index led by it, RLS enabled + forced with the usual policy.

CREATE TABLE "geofences" (
  "id"            UUID NOT NULL DEFAULT gen_random_uuid(),
  "tenant_id"     UUID NOT NULL,
  "name"          TEXT NOT NULL,
  -- 'CIRCLE': latitude, longitude, radius_meters; 'POLYGON': polygon = [[lon, lat], …] (closed ring).
  "shape_type"    TEXT NOT NULL CHECK ("shape_type" IN ('CIRCLE', 'POLYGON')),
  "latitude"      DOUBLE PRECISION,
  "longitude"     DOUBLE PRECISION,
  "radius_meters" DOUBLE PRECISION,
  "polygon"       JSONB,
  "dwell_seconds" INTEGER,
  "tags"          TEXT[] NOT NULL DEFAULT '{}',
  "created_at"    TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updated_at"    TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "geofences_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "geofences_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE,
  CONSTRAINT "geofences_shape_check" CHECK (
    ("shape_type" = 'CIRCLE' AND "latitude" IS NOT NULL AND "longitude" IS NOT NULL AND "radius_meters" IS NOT NULL
       AND "polygon" IS NULL)
    OR ("shape_type" = 'POLYGON' AND "polygon" IS NOT NULL AND "latitude" IS NULL AND "radius_meters" IS NULL))
);
CREATE INDEX "geofences_tenant_id_created_at_idx" ON "geofences"("tenant_id", "created_at" DESC, "id" DESC);

-- One row per tenant that ever had a fence: bumped by every create/update/delete in the same
-- transaction. Point transactions read it (one indexed row) and rebuild their index on a change.
-- fence_count enforces the per-tenant cap (the row lock serialises concurrent creates).
CREATE TABLE "geofence_tenant_state" (
  "tenant_id"   UUID NOT NULL,
  "version"     BIGINT NOT NULL DEFAULT 0,
  "fence_count" INTEGER NOT NULL DEFAULT 0,
  "created_at"  TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updated_at"  TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "geofence_tenant_state_pkey" PRIMARY KEY ("tenant_id"),
  CONSTRAINT "geofence_tenant_state_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE
);

-- A session is inside a fence exactly when its row exists (entered_at: the ENTER point's
-- recordedAt; dwelled: the visit's DWELL was emitted). Deleting a fence or a session ends its visits.
CREATE TABLE "geofence_visits" (
  "id"          UUID NOT NULL DEFAULT gen_random_uuid(),
  "tenant_id"   UUID NOT NULL,
  "session_id"  UUID NOT NULL,
  "geofence_id" UUID NOT NULL,
  "entered_at"  TIMESTAMPTZ(3) NOT NULL,
  "dwelled"     BOOLEAN NOT NULL DEFAULT false,
  "created_at"  TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updated_at"  TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "geofence_visits_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "geofence_visits_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "location_sessions"("id") ON DELETE CASCADE,
  CONSTRAINT "geofence_visits_geofence_id_fkey" FOREIGN KEY ("geofence_id") REFERENCES "geofences"("id") ON DELETE CASCADE
);
CREATE UNIQUE INDEX "geofence_visits_tenant_session_geofence_key"
  ON "geofence_visits"("tenant_id", "session_id", "geofence_id");
CREATE INDEX "geofence_visits_geofence_id_idx" ON "geofence_visits"("tenant_id", "geofence_id");

-- Per session: the recordedAt of the newest point evaluated against the fences. An older point
-- (out of order) changes nothing.
CREATE TABLE "geofence_session_state" (
  "tenant_id"         UUID NOT NULL,
  "session_id"        UUID NOT NULL,
  "last_evaluated_at" TIMESTAMPTZ(3) NOT NULL,
  "created_at"        TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updated_at"        TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "geofence_session_state_pkey" PRIMARY KEY ("tenant_id", "session_id"),
  CONSTRAINT "geofence_session_state_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "location_sessions"("id") ON DELETE CASCADE
);

-- The event history (geofenceEvents query). id = the outbox event's id. Deleting a fence deletes
-- its history.
CREATE TABLE "geofence_events" (
  "id"          UUID NOT NULL,
  "tenant_id"   UUID NOT NULL,
  "geofence_id" UUID NOT NULL,
  "session_id"  UUID NOT NULL,
  "user_id"     UUID NOT NULL,
  "point_id"    UUID NOT NULL,
  "type"        TEXT NOT NULL CHECK ("type" IN ('ENTER', 'EXIT', 'DWELL')),
  "at"          TIMESTAMPTZ(3) NOT NULL,
  "seq"         BIGSERIAL NOT NULL,
  "created_at"  TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updated_at"  TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "geofence_events_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "geofence_events_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "location_sessions"("id") ON DELETE CASCADE,
  CONSTRAINT "geofence_events_geofence_id_fkey" FOREIGN KEY ("geofence_id") REFERENCES "geofences"("id") ON DELETE CASCADE
);
CREATE INDEX "geofence_events_tenant_seq_idx" ON "geofence_events"("tenant_id", "seq" DESC);
CREATE INDEX "geofence_events_tenant_geofence_idx" ON "geofence_events"("tenant_id", "geofence_id", "seq" DESC);
CREATE INDEX "geofence_events_tenant_session_idx" ON "geofence_events"("tenant_id", "session_id", "seq" DESC);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['geofences','geofence_tenant_state','geofence_visits','geofence_session_state','geofence_events'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING ("tenant_id" = (SELECT app_current_tenant())) '
                   'WITH CHECK ("tenant_id" = (SELECT app_current_tenant()))', t);
  END LOOP;
END $$;

GRANT SELECT, INSERT, UPDATE, DELETE ON
  "geofences", "geofence_tenant_state", "geofence_visits", "geofence_session_state", "geofence_events" TO lt_app;
GRANT USAGE, SELECT ON SEQUENCE "geofence_events_seq_seq" TO lt_app;
