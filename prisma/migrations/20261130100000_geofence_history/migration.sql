-- A deleted geofence keeps its row as a tombstone (deleted_at set): its ENTER/EXIT/DWELL history is
-- an audit record and survives, each event still naming the fence as it was. Deleted fences are
-- not evaluated, listed, counted against the cap, or readable by id.
ALTER TABLE "geofences" ADD COLUMN "deleted_at" TIMESTAMPTZ(3);
DROP INDEX "geofences_tenant_id_created_at_idx";
CREATE INDEX "geofences_tenant_id_created_at_idx" ON "geofences"("tenant_id", "created_at" DESC, "id" DESC)
  WHERE "deleted_at" IS NULL;

-- The per-session evaluation mark is the session's newest point (location_sessions.last_point_id),
-- read in the points' write statement: no table, no write per batch.
DROP TABLE "geofence_session_state";
