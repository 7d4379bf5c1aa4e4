/** The Cognito client wrapper (timeout, retry for idempotent calls, circuit breaker, error mapping). */
export { Cognito, type CognitoOptions, type CognitoTransport } from './client';
export { type CognitoTokens, decodeJwtPayload } from './tokens';
export { isInfrastructureError, toGraphQLError } from './errors';
