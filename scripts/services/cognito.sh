#!/usr/bin/env bash
# cognito-local 5.3.0 (the repo's node_modules/.bin/cognito-local) on 127.0.0.1:9229 with a
# pre-seeded user pool + app client whose ids never change:
#
#   scripts/services/cognito.sh start    # seed missing files, start, wait until the pool answers
#   scripts/services/cognito.sh stop     # SIGTERM, wait, SIGKILL after COGNITO_STOP_TIMEOUT
#   scripts/services/cognito.sh status   # exit 0 when it answers, 3 when it does not
#   scripts/services/cognito.sh restart
#   scripts/services/cognito.sh reset    # stop + delete the data dir (all users)
#
# Fixed ids:  pool   local_supergraph         (COGNITO_POOL_ID)
#             client supergraphlocalclient    (COGNITO_CLIENT_ID; public, no secret,
#                    ALLOW_USER_PASSWORD_AUTH + ALLOW_REFRESH_TOKEN_AUTH)
#             sign-in name = e-mail (pool UsernameAttributes=[email]; the stored Username = sub)
# Observed with @aws-sdk/client-cognito-identity-provider (SignUp + AdminConfirmSignUp +
# InitiateAuth USER_PASSWORD_AUTH, endpoint http://127.0.0.1:9229, region us-east-1):
#   issuer  iss = http://127.0.0.1:9229/local_supergraph   (= COGNITO_ISSUER_DOMAIN + "/" + pool id;
#                 cognito-local's own default would be http://localhost:9229/..., see README)
#   JWKS        http://127.0.0.1:9229/local_supergraph/.well-known/jwks.json  (kid "CognitoLocal",
#               RS256; any path prefix works, the key is the same for every pool)
#   access token header {alg: RS256, typ: JWT, kid: CognitoLocal}; claims: sub, client_id
#               "supergraphlocalclient", token_use "access", username (= sub), scope
#               "aws.cognito.signin.user.admin", auth_time, iat, exp (iat + 3600), jti, event_id,
#               iss; NO aud (cognito:groups only when the user is in a group)
#   id token    aud "supergraphlocalclient", token_use "id", email, email_verified,
#               cognito:username (= sub), custom:* attributes, iss, exp (iat + 3600)
#   AuthenticationResult has NO ExpiresIn / TokenType (real Cognito sends 3600 / "Bearer"): take
#               expiry from the token's exp. REFRESH_TOKEN_AUTH returns no new refresh token (as real
#               Cognito); RevokeToken works. A wrong password gives InvalidPasswordException (real
#               Cognito: NotAuthorizedException). /<pool>/.well-known/openid-configuration hardcodes
#               http://localhost:9229 whatever the issuer: do not discover the JWKS through it.
# Passwords are stored in plain text in .cognito/db/local_supergraph.json: test data only.
# cognito-local does NOT enforce the password policy nor ExplicitAuthFlows (real Cognito does).
set -euo pipefail

SVC_NAME=cognito
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
# shellcheck source=lib.sh
source "$SCRIPT_DIR/lib.sh"

COGNITO_HOST=127.0.0.1
COGNITO_PORT=${COGNITO_PORT:-9229}
COGNITO_LOCAL_DIR=${COGNITO_LOCAL_DIR:-/tmp/location-supergraph-cognito}
COGNITO_START_TIMEOUT=${COGNITO_START_TIMEOUT:-30}
COGNITO_STOP_TIMEOUT=${COGNITO_STOP_TIMEOUT:-10}
export COGNITO_POOL_ID=${COGNITO_POOL_ID:-local_supergraph}
export COGNITO_CLIENT_ID=${COGNITO_CLIENT_ID:-supergraphlocalclient}
export COGNITO_ISSUER_DOMAIN=${COGNITO_ISSUER_DOMAIN:-http://$COGNITO_HOST:$COGNITO_PORT}

BIN=$REPO_ROOT/node_modules/.bin/cognito-local
PID_FILE=$COGNITO_LOCAL_DIR/cognito-local.pid
READY_FILE=$COGNITO_LOCAL_DIR/cognito-local.ready
LOG_FILE=$COGNITO_LOCAL_DIR/cognito-local.log
PID_PATTERN=cognito-local
URL=http://$COGNITO_HOST:$COGNITO_PORT

# The service answers AND knows our pool and client.
answers() {
  curl -fsS --max-time 3 -o /dev/null "$URL/health" 2>/dev/null || return 1
  curl -fsS --max-time 3 -o /dev/null -X POST "$URL/" \
    -H 'Content-Type: application/x-amz-json-1.1' \
    -H 'X-Amz-Target: AWSCognitoIdentityProviderService.DescribeUserPoolClient' \
    --data "{\"UserPoolId\":\"$COGNITO_POOL_ID\",\"ClientId\":\"$COGNITO_CLIENT_ID\"}" 2>/dev/null
}

start() {
  svc_lock "$COGNITO_LOCAL_DIR/.lock"
  local pid t0 ours=0
  t0=$(svc_now)
  pid=$(svc_ours "$PID_FILE" "$PID_PATTERN" "$READY_FILE" "$COGNITO_HOST" "$COGNITO_PORT" answers) || ours=$?
  ((ours != 0)) || return 0
  if ((ours == 3)); then
    svc_die "port $COGNITO_PORT is taken by something that does not serve pool $COGNITO_POOL_ID / client $COGNITO_CLIENT_ID"
  elif ((ours == 2)); then
    command -v curl >/dev/null || svc_die "curl not found"
    [[ -x $BIN ]] || svc_die "$BIN not found: run \`npm ci\` in $REPO_ROOT first"
    rm -f "$READY_FILE"
    local seeded
    seeded=$("$REPO_ROOT/node_modules/.bin/tsx" "$REPO_ROOT/packages/embedded/src/cognito/seedCli.ts" "$COGNITO_LOCAL_DIR") ||
      svc_die "seeding $COGNITO_LOCAL_DIR/.cognito failed"
    svc_log "$seeded ($COGNITO_LOCAL_DIR/.cognito)"
    svc_log "starting on $URL"
    (
      cd "$COGNITO_LOCAL_DIR"
      exec 9>&- # do not let the server inherit the lock
      export HOST=$COGNITO_HOST PORT=$COGNITO_PORT NO_COLOR=1 \
        AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE=1
      exec setsid nohup "$BIN"
    ) </dev/null >>"$LOG_FILE" 2>&1 &
    pid=$!
    printf '%s\n' "$pid" >"$PID_FILE"
  fi
  local deadline=$((t0 + COGNITO_START_TIMEOUT))
  while :; do
    if ! svc_running "$pid"; then
      rm -f "$PID_FILE"
      svc_tail "$LOG_FILE" 40
      svc_die "cognito-local (pid $pid) exited during startup (log: $LOG_FILE)"
    fi
    if answers; then
      printf '%s\n' "$pid" >"$READY_FILE"
      svc_log "ready on $URL (pid $pid, pool $COGNITO_POOL_ID, client $COGNITO_CLIENT_ID) after $(($(svc_now) - t0))s"
      return 0
    fi
    if (($(svc_now) >= deadline)); then
      svc_tail "$LOG_FILE" 40
      svc_die "not ready within ${COGNITO_START_TIMEOUT}s (log: $LOG_FILE); pid $pid left running, \`$0 stop\` stops it"
    fi
    sleep 0.3
  done
}

stop() {
  svc_lock "$COGNITO_LOCAL_DIR/.lock"
  local pid
  if ! pid=$(svc_pid_alive "$PID_FILE" "$PID_PATTERN"); then
    if svc_port_open "$COGNITO_HOST" "$COGNITO_PORT"; then
      svc_log "not started by this script, but something answers on $URL; not touching it"
    else
      svc_log "not running"
    fi
    return 0
  fi
  svc_log "stopping (pid $pid)"
  svc_stop_pid "$pid" "$COGNITO_STOP_TIMEOUT" || svc_die "could not stop pid $pid"
  rm -f "$PID_FILE" "$READY_FILE"
  svc_log "stopped"
}

status() {
  local pid
  if pid=$(svc_pid_alive "$PID_FILE" "$PID_PATTERN"); then
    if answers; then
      echo "cognito: running (pid $pid) on $URL, pool $COGNITO_POOL_ID, client $COGNITO_CLIENT_ID, data $COGNITO_LOCAL_DIR/.cognito"
      return 0
    fi
    echo "cognito: process $pid alive but $URL does not answer (log $LOG_FILE)"
    return 3
  fi
  if answers; then
    echo "cognito: something (not started by this script) serves pool $COGNITO_POOL_ID on $URL"
    return 0
  fi
  echo "cognito: not running"
  return 3
}

reset() {
  stop
  svc_log "deleting $COGNITO_LOCAL_DIR/.cognito"
  rm -rf "$COGNITO_LOCAL_DIR/.cognito"
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) status ;;
restart) (stop) && start ;;
reset) reset ;;
*)
  echo "usage: $0 start|stop|status|restart|reset" >&2
  exit 2
  ;;
esac
