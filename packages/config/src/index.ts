/**
 * Validated configuration. Each service declares its variables once (name, parser, default,
 * description); {@link loadConfig} reads them at start and throws one error naming every bad
 * variable. Only a service's `index.ts` passes `process.env` in.
 */
export {
  loadConfig,
  ConfigError,
  str,
  int,
  bool,
  url,
  optionalUrl,
  secret,
  oneOf,
  list,
  type ConfigSpec,
  type VarSpec,
  type ConfigOf,
} from './load';
export { commonConfig, type CommonConfig } from './common';
