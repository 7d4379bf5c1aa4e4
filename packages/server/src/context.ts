import type { Caller } from '@lt/context';
import type { Logger } from '@lt/logger';

/** Per-request context of every subgraph resolver. */
export interface SubgraphContext {
  /** Verified from the router's signature; never from client headers or arguments. */
  caller: Caller;
  /** Logger bound to the request id. */
  log: Logger;
}
