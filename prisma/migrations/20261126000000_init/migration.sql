-- Initial schema: tables as in schema.prisma, plus what Prisma cannot express:
-- grants for the services' role, row-level security, and the narrow SECURITY DEFINER paths.
-- Runs as the owner role (lt_owner). The services' role lt_app must exist (npm run db:setup).

DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lt_app') THEN
    RAISE EXCEPTION 'role lt_app is missing: run "npm run db:setup" (creates roles and database)';
  END IF;
END $$;

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('PLATFORM_ADMIN', 'TENANT_ADMIN', 'MEMBER');
CREATE TYPE "TenantStatus" AS ENUM ('ACTIVE', 'SUSPENDED');
CREATE TYPE "SessionStatus" AS ENUM ('ACTIVE', 'ENDED');
CREATE TYPE "SinkStatus" AS ENUM ('ACTIVE', 'PAUSED', 'DISABLED');
CREATE TYPE "DeliveryStatus" AS ENUM ('PENDING', 'DELIVERED', 'FAILED', 'DEAD');

-- CreateTable
CREATE TABLE "tenants" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "status" "TenantStatus" NOT NULL DEFAULT 'ACTIVE',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "tenants_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "users" (
    "id" UUID NOT NULL,
    "cognito_sub" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "tenant_id" UUID,
    "role" "Role" NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "invitations" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "role" "Role" NOT NULL,
    "code_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),
    "created_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "invitations_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "location_sessions" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "device_id" TEXT,
    "status" "SessionStatus" NOT NULL DEFAULT 'ACTIVE',
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ended_at" TIMESTAMPTZ(3),
    "point_count" INTEGER NOT NULL DEFAULT 0,
    "last_point_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "location_sessions_pkey" PRIMARY KEY ("id")
);

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
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "location_points_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "outbox" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "tenant_id" UUID NOT NULL,
    "topic" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMPTZ(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "outbox_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "stream_sinks" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "topics" TEXT[],
    "status" "SinkStatus" NOT NULL DEFAULT 'ACTIVE',
    "secret_enc" TEXT NOT NULL,
    "previous_secret_enc" TEXT,
    "previous_secret_expires_at" TIMESTAMPTZ(3),
    "failing_since" TIMESTAMPTZ(3),
    "disabled_reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "stream_sinks_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "deliveries" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "sink_id" UUID NOT NULL,
    "event_id" UUID NOT NULL,
    "topic" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "status" "DeliveryStatus" NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_status_code" INTEGER,
    "last_error" TEXT,
    "response_body" TEXT,
    "next_attempt_at" TIMESTAMPTZ(3),
    "delivered_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "deliveries_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "processed_events" (
    "consumer" TEXT NOT NULL,
    "event_id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "processed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "processed_events_pkey" PRIMARY KEY ("tenant_id","consumer","event_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "tenants_slug_key" ON "tenants"("slug");
CREATE UNIQUE INDEX "users_cognito_sub_key" ON "users"("cognito_sub");
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");
CREATE INDEX "users_tenant_id_created_at_idx" ON "users"("tenant_id", "created_at");
CREATE UNIQUE INDEX "invitations_code_hash_key" ON "invitations"("code_hash");
CREATE INDEX "invitations_tenant_id_email_idx" ON "invitations"("tenant_id", "email");
CREATE INDEX "location_sessions_tenant_id_status_started_at_idx" ON "location_sessions"("tenant_id", "status", "started_at" DESC);
CREATE INDEX "location_sessions_tenant_id_user_id_started_at_idx" ON "location_sessions"("tenant_id", "user_id", "started_at" DESC);
CREATE UNIQUE INDEX "location_points_tenant_id_session_id_recorded_at_key" ON "location_points"("tenant_id", "session_id", "recorded_at");
CREATE UNIQUE INDEX "location_points_tenant_id_session_id_idempotency_key_key" ON "location_points"("tenant_id", "session_id", "idempotency_key");
CREATE UNIQUE INDEX "outbox_seq_key" ON "outbox"("seq");
CREATE INDEX "outbox_tenant_id_created_at_idx" ON "outbox"("tenant_id", "created_at");
CREATE INDEX "stream_sinks_tenant_id_status_idx" ON "stream_sinks"("tenant_id", "status");
CREATE UNIQUE INDEX "deliveries_tenant_id_sink_id_event_id_key" ON "deliveries"("tenant_id", "sink_id", "event_id");
CREATE INDEX "deliveries_tenant_id_sink_id_status_created_at_idx" ON "deliveries"("tenant_id", "sink_id", "status", "created_at" DESC);

-- AddForeignKey
ALTER TABLE "users" ADD CONSTRAINT "users_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "invitations" ADD CONSTRAINT "invitations_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "location_sessions" ADD CONSTRAINT "location_sessions_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "location_sessions" ADD CONSTRAINT "location_sessions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "location_points" ADD CONSTRAINT "location_points_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "location_sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "stream_sinks" ADD CONSTRAINT "stream_sinks_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_sink_id_fkey" FOREIGN KEY ("sink_id") REFERENCES "stream_sinks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Points are read newest-first per session (lastPoint, points connection) without scans.
CREATE INDEX "location_points_tenant_id_session_id_recorded_at_desc_idx" ON "location_points"("tenant_id", "session_id", "recorded_at" DESC, "id" DESC);
-- The relay reads unsent rows in order.
CREATE INDEX "outbox_unsent_seq_idx" ON "outbox"("seq") WHERE "sent_at" IS NULL;

-- ───────────── Tenant context ─────────────
-- The tenant of the current unit of work, set per transaction with set_config('app.tenant_id', id, true).
-- nullif: after a transaction-local setting ends, current_setting returns '' rather than NULL.
CREATE FUNCTION app_current_tenant() RETURNS uuid LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;
-- The explicit platform-admin path, honoured only by the tenants table and platform-admin user rows.
CREATE FUNCTION app_is_platform() RETURNS boolean LANGUAGE sql STABLE AS
$$ SELECT coalesce(current_setting('app.platform', true), '') = 'on' $$;

-- ───────────── Row-level security ─────────────
ALTER TABLE "tenants" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "tenants" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "tenants"
  USING ("id" = (SELECT app_current_tenant()) OR (SELECT app_is_platform()))
  WITH CHECK ("id" = (SELECT app_current_tenant()) OR (SELECT app_is_platform()));

ALTER TABLE "users" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "users" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "users"
  USING ("tenant_id" = (SELECT app_current_tenant()) OR ("tenant_id" IS NULL AND (SELECT app_is_platform())))
  WITH CHECK ("tenant_id" = (SELECT app_current_tenant()) OR ("tenant_id" IS NULL AND (SELECT app_is_platform())));

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['invitations','location_sessions','location_points','outbox',
                           'stream_sinks','deliveries','processed_events'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING ("tenant_id" = (SELECT app_current_tenant())) '
                   'WITH CHECK ("tenant_id" = (SELECT app_current_tenant()))', t);
  END LOOP;
END $$;

-- ───────────── Grants for the services' role ─────────────
GRANT USAGE ON SCHEMA public TO lt_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON
  "tenants", "users", "invitations", "location_sessions", "location_points", "outbox",
  "stream_sinks", "deliveries", "processed_events" TO lt_app;
GRANT USAGE, SELECT ON SEQUENCE "outbox_seq_seq" TO lt_app;
GRANT EXECUTE ON FUNCTION app_current_tenant(), app_is_platform() TO lt_app;

-- ───────────── Narrow cross-tenant paths (SECURITY DEFINER, owner has BYPASSRLS) ─────────────
-- Each answers one question that must be asked before the tenant is known, and nothing more.

-- Router: Cognito sub → membership.
CREATE FUNCTION app_resolve_membership(p_sub text)
RETURNS TABLE (user_id uuid, tenant_id uuid, role "Role", tenant_status "TenantStatus", email text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS
$$ SELECT u.id, u.tenant_id, u.role, t.status, u.email
     FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id
    WHERE u.cognito_sub = p_sub $$;

-- Auth: is this email already a user anywhere (invitations must not target existing accounts)?
CREATE FUNCTION app_email_registered(p_email text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS
$$ SELECT EXISTS (SELECT 1 FROM users WHERE email = lower(p_email)) $$;

-- Auth: register looks an invitation up by the hash of its code.
CREATE FUNCTION app_find_invitation(p_code_hash text)
RETURNS TABLE (id uuid, tenant_id uuid, email text, role "Role", expires_at timestamptz,
               used_at timestamptz, tenant_status "TenantStatus")
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS
$$ SELECT i.id, i.tenant_id, i.email, i.role, i.expires_at, i.used_at, t.status
     FROM invitations i JOIN tenants t ON t.id = i.tenant_id
    WHERE i.code_hash = p_code_hash $$;

REVOKE ALL ON FUNCTION app_resolve_membership(text), app_email_registered(text),
  app_find_invitation(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_resolve_membership(text), app_email_registered(text),
  app_find_invitation(text) TO lt_app;
