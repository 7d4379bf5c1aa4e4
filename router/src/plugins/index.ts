/** Router-side Apollo plugins: access rules from the SDL and operation limits. */
export {
  authorizationPlugin,
  readAccessRules,
  filterDocument,
  allowed,
  type AccessRules,
  type AccessRule,
} from './authorization';
export {
  limitsPlugin,
  nestingGuard,
  measureOperation,
  textNesting,
  checkSource,
  checkOperation,
  resolveLimits,
  unknownOperation,
  bodyLimitErrorHandler,
  answerClientError,
  DEFAULT_LIMITS,
  type OperationLimits,
  type OperationShape,
} from './limits';
