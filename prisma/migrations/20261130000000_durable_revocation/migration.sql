-- Durable revocation: sign-outs everywhere and revoked token families live in Postgres; Redis only
-- caches them (a Redis that loses its data, or is down, no longer brings signed-out tokens back).
-- Runs as the owner (lt_owner, BYPASSRLS). Both are written and read only through the SECURITY
-- DEFINER functions below, called by the auth subgraph (writes) and the router (reads).

-- The user's last sign-out everywhere: their tokens issued at or before it are refused.
ALTER TABLE "users" ADD COLUMN "tokens_valid_after" TIMESTAMPTZ(3);

-- Revoked token families (Cognito `origin_jti`, else `jti`) until their tokens would have expired.
-- No tenant_id (a platform admin's tokens have no tenant): RLS enabled and forced with no policy,
-- and no grant to lt_app, so the services reach the rows only through the functions below.
CREATE TABLE "revoked_tokens" (
    "token_id" TEXT NOT NULL,
    "sub" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "revoked_tokens_pkey" PRIMARY KEY ("token_id")
);
CREATE INDEX "revoked_tokens_sub_idx" ON "revoked_tokens"("sub", "expires_at");
ALTER TABLE "revoked_tokens" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "revoked_tokens" FORCE ROW LEVEL SECURITY;

-- Auth: sign-out everywhere (never moves the instant back).
CREATE FUNCTION app_sign_out_everywhere(p_sub text, p_before timestamptz) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public AS
$$ UPDATE users SET tokens_valid_after = greatest(tokens_valid_after, p_before)
    WHERE cognito_sub = p_sub $$;

-- Auth: revoke a token family; expired rows are dropped on the way (a handful per call).
CREATE FUNCTION app_revoke_token(p_token_id text, p_sub text, p_expires_at timestamptz) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public AS
$$ DELETE FROM revoked_tokens WHERE token_id IN (
       SELECT token_id FROM revoked_tokens WHERE expires_at < now() LIMIT 100);
   INSERT INTO revoked_tokens (token_id, sub, expires_at) VALUES (p_token_id, p_sub, p_expires_at)
   ON CONFLICT (token_id) DO UPDATE SET expires_at = greatest(revoked_tokens.expires_at, EXCLUDED.expires_at) $$;

-- Router: the membership of a Cognito sub plus what refuses its tokens (last sign-out everywhere,
-- the user's unexpired revoked token families as [{"id": …, "exp": epoch s}]).
CREATE FUNCTION app_resolve_identity(p_sub text)
RETURNS TABLE (user_id uuid, tenant_id uuid, role "Role", tenant_status "TenantStatus",
               tokens_valid_after timestamptz, revoked_tokens jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS
$$ SELECT u.id, u.tenant_id, u.role, t.status, u.tokens_valid_after,
          coalesce((SELECT jsonb_agg(jsonb_build_object('id', r.token_id,
                                                        'exp', floor(extract(epoch FROM r.expires_at))::bigint))
                      FROM revoked_tokens r WHERE r.sub = p_sub AND r.expires_at > now()), '[]'::jsonb)
     FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id
    WHERE u.cognito_sub = p_sub $$;

REVOKE ALL ON FUNCTION app_sign_out_everywhere(text, timestamptz), app_revoke_token(text, text, timestamptz),
  app_resolve_identity(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_sign_out_everywhere(text, timestamptz), app_revoke_token(text, text, timestamptz),
  app_resolve_identity(text) TO lt_app;
