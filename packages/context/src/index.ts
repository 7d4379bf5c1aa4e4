/**
 * The tenant context: who is calling, for which tenant, with which role. The router builds it from
 * a verified Cognito token and signs it; subgraphs accept nothing else (README, "How a request is
 * trusted").
 */
export { Role, TenantStatus, isRole, type Membership, type Caller } from './membership';
export {
  signContext,
  verifyContext,
  ContextVerificationError,
  CONTEXT_HEADER,
  REQUEST_ID_HEADER,
  type SignContextOptions,
  type VerifyContextOptions,
} from './signing';
export { isUuid } from './ids';
