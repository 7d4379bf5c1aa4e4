import type { Db } from '@lt/db';
import type { Logger } from '@lt/logger';
import type { UrlPolicy } from './delivery/urlPolicy';
import type { StreamingStatusProbe } from './pipeline';

export interface StreamingSubgraphDeps {
  db: Db;
  log: Logger;
  /** Shared with the router (ROUTER_CONTEXT_SECRET). */
  contextSecret: string;
  /** AES-256-GCM key (32 bytes) the sinks' signing secrets are encrypted with (STREAMING_SECRET_KEY). */
  secretKey: Buffer;
  /** Where sink URLs may point (SSRF policy). */
  urlPolicy: UrlPolicy;
  /** A rotated secret keeps verifying this long, ms. Default 24 h. */
  secretGraceMs?: number;
  /** The pipeline running in this process, if any: woken on new work, asked for broker status. */
  pipeline?: { dispatcher: { wake(): void }; status(): Promise<StreamingStatusProbe> };
  /** Readiness probes served on `/readyz` (e.g. postgres, pipeline, kafka). */
  readiness?: Record<string, () => Promise<void>>;
}

/** What the sink use cases need. */
export interface SinkUseCaseDeps {
  db: Db;
  secretKey: Buffer;
  urlPolicy: UrlPolicy;
  /** A rotated secret keeps verifying this long, ms. */
  secretGraceMs: number;
  /** Wakes the in-process dispatcher after new work (test events, replays, re-activation). */
  wake: () => void;
}
