/** The router's identity path: token verification and membership resolution. */
export { anonymousAuthenticator, type Authenticator, type Authenticated } from './types';
export {
  createAccessTokenVerifier,
  failureReason,
  type AccessTokenVerifier,
  type AccessTokenVerifierOptions,
  type AccessClaims,
  type AuthFailureReason,
} from './verifier';
export { MembershipResolver, type MembershipResolverOptions, type Resolution, type CacheStats } from './membership';
export {
  createRedisMembershipStore,
  createMemoryMembershipStore,
  type MembershipStore,
  type StoreLookup,
  type Revocations,
} from './membershipStore';
export { createCognitoAuthenticator, type CognitoAuthenticatorOptions } from './cognitoAuthenticator';
export { createIdentity, type Identity, type IdentityOptions } from './createIdentity';
