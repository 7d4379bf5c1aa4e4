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
  measureOperation,
  bodyLimitErrorHandler,
  type OperationLimits,
  type OperationShape,
} from './limits';
