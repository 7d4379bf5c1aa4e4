import {
  AdminConfirmSignUpCommand,
  AdminDeleteUserCommand,
  AdminGetUserCommand,
  AdminUserGlobalSignOutCommand,
  CognitoIdentityProviderClient,
  DescribeUserPoolClientCommand,
  InitiateAuthCommand,
  RevokeTokenCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleWhen,
  retry,
  timeout,
  TimeoutStrategy,
  wrap,
  type CircuitState,
  type IPolicy,
} from 'cockatiel';
import { isInfrastructureError, toGraphQLError } from './errors';
import { tokensFrom, type CognitoTokens } from './tokens';

/** Anything with the SDK client's `send` (tests wrap the real client to inject outages). */
export interface CognitoTransport {
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

export interface CognitoOptions {
  /** AWS region. Default 'us-east-1' (any value works with cognito-local). */
  region?: string;
  /** cognito-local (http://127.0.0.1:9229); omit for real Cognito. */
  endpoint?: string;
  userPoolId: string;
  clientId: string;
  /** Deadline of each Cognito call, ms. Default 3_000. */
  timeoutMs?: number;
  /** Extra attempts for idempotent calls on infrastructure failures. Default 2. */
  retries?: number;
  /** Consecutive infrastructure failures that open the breaker. Default 5. */
  breakerThreshold?: number;
  /** How long the breaker stays open before letting one call through, ms. Default 10_000. */
  breakerHalfOpenAfterMs?: number;
  /** Replaces the SDK client (tests). */
  transport?: CognitoTransport;
  now?: () => number;
}

/**
 * The auth subgraph's only way to Cognito (AWS SDK v3; cognito-local differs only by endpoint).
 * Every call has a timeout and goes through one circuit breaker; only idempotent calls are retried
 * (with exponential backoff). Failures come out as GraphQL errors from the closed list: an open
 * breaker or an outage is SERVICE_UNAVAILABLE, immediately.
 */
export class Cognito {
  readonly clientId: string;
  readonly userPoolId: string;
  private readonly transport: CognitoTransport;
  private readonly once: IPolicy;
  private readonly idempotent: IPolicy;
  private readonly breaker;
  private readonly now: () => number;

  constructor(o: CognitoOptions) {
    this.clientId = o.clientId;
    this.userPoolId = o.userPoolId;
    this.now = o.now ?? Date.now;
    this.transport =
      o.transport ??
      new CognitoIdentityProviderClient({
        region: o.region ?? 'us-east-1',
        maxAttempts: 1, // retries are ours (idempotent calls only)
        ...(o.endpoint
          ? { endpoint: o.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
          : {}),
      });
    const infra = handleWhen(isInfrastructureError);
    this.breaker = circuitBreaker(infra, {
      halfOpenAfter: o.breakerHalfOpenAfterMs ?? 10_000,
      breaker: new ConsecutiveBreaker(o.breakerThreshold ?? 5),
    });
    const deadline = timeout(o.timeoutMs ?? 3_000, TimeoutStrategy.Aggressive);
    this.once = wrap(this.breaker, deadline);
    this.idempotent = wrap(
      retry(infra, {
        maxAttempts: o.retries ?? 2,
        backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 1_000 }),
      }),
      this.breaker,
      deadline,
    );
  }

  /** Breaker state, for /readyz and tests. */
  get circuitState(): CircuitState {
    return this.breaker.state;
  }

  private async call<T>(policy: IPolicy, command: unknown, context: 'auth' | 'signUp' | 'other'): Promise<T> {
    try {
      return (await policy.execute(({ signal }) => this.transport.send(command, { abortSignal: signal }))) as T;
    } catch (err) {
      throw Object.assign(toGraphQLError(err, context), { cause: err });
    }
  }

  /** Creates an unconfirmed user (not retried: not idempotent). Returns its `sub`. */
  async signUp(email: string, password: string): Promise<string> {
    const out = await this.call<{ UserSub?: string }>(
      this.once,
      new SignUpCommand({
        ClientId: this.clientId,
        Username: email,
        Password: password,
        UserAttributes: [{ Name: 'email', Value: email }],
      }),
      'signUp',
    );
    if (!out.UserSub) throw toGraphQLError(new Error('no UserSub'), 'other');
    return out.UserSub;
  }

  async adminConfirmSignUp(username: string): Promise<void> {
    await this.call(
      this.idempotent,
      new AdminConfirmSignUpCommand({ UserPoolId: this.userPoolId, Username: username }),
      'other',
    );
  }

  /** Deletes a user; a user that is already gone counts as deleted (so compensation can retry). */
  async adminDeleteUser(username: string): Promise<void> {
    try {
      await this.call(
        this.idempotent,
        new AdminDeleteUserCommand({ UserPoolId: this.userPoolId, Username: username }),
        'other',
      );
    } catch (err) {
      if ((err as { cause?: { name?: string } }).cause?.name === 'UserNotFoundException') return;
      throw err;
    }
  }

  /** True when the user exists in the pool. */
  async userExists(username: string): Promise<boolean> {
    try {
      await this.call(
        this.idempotent,
        new AdminGetUserCommand({ UserPoolId: this.userPoolId, Username: username }),
        'other',
      );
      return true;
    } catch (err) {
      if ((err as { cause?: { name?: string } }).cause?.name === 'UserNotFoundException') return false;
      throw err;
    }
  }

  /** Signs the user out everywhere (every refresh token of the user is revoked). */
  async adminUserGlobalSignOut(username: string): Promise<void> {
    await this.call(
      this.idempotent,
      new AdminUserGlobalSignOutCommand({ UserPoolId: this.userPoolId, Username: username }),
      'other',
    );
  }

  /** USER_PASSWORD_AUTH (retried: a failed attempt has no effect). */
  async passwordAuth(email: string, password: string): Promise<CognitoTokens> {
    const out = await this.call<{ AuthenticationResult?: Parameters<typeof tokensFrom>[0] }>(
      this.idempotent,
      new InitiateAuthCommand({
        ClientId: this.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: email, PASSWORD: password },
      }),
      'auth',
    );
    return tokensFrom(out.AuthenticationResult, null, Math.floor(this.now() / 1000));
  }

  /** REFRESH_TOKEN_AUTH; keeps the given refresh token when Cognito sends no new one. */
  async refresh(refreshToken: string): Promise<CognitoTokens> {
    const out = await this.call<{ AuthenticationResult?: Parameters<typeof tokensFrom>[0] }>(
      this.idempotent,
      new InitiateAuthCommand({
        ClientId: this.clientId,
        AuthFlow: 'REFRESH_TOKEN_AUTH',
        AuthParameters: { REFRESH_TOKEN: refreshToken },
      }),
      'auth',
    );
    return tokensFrom(out.AuthenticationResult, refreshToken, Math.floor(this.now() / 1000));
  }

  /** Revokes a refresh token and the access tokens issued from it. */
  async revokeToken(refreshToken: string): Promise<void> {
    await this.call(this.idempotent, new RevokeTokenCommand({ ClientId: this.clientId, Token: refreshToken }), 'other');
  }

  /** Cheap reachability probe (/readyz): the configured app client answers. */
  async ping(): Promise<void> {
    await this.call(
      this.idempotent,
      new DescribeUserPoolClientCommand({ UserPoolId: this.userPoolId, ClientId: this.clientId }),
      'other',
    );
  }
}
