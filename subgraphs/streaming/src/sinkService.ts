import { randomUUID } from 'node:crypto';
import { withSystem, withTenant, type Db, type StreamSinkModel } from '@lt/db';
import type { EventEnvelope } from '@lt/events';
import { badUserInput, notFound } from '@lt/errors';
import { encryptSecret, generateSecret } from './crypto/secrets';
import { findSink, findSinks, insertSink, listSinks } from './data/sinks';
import { requeueDead } from './data/deliveries';
import { UrlRefusedError, validateSinkUrl, type UrlPolicy } from './delivery/urlPolicy';
import { isStreamTopic, type StreamTopic } from './kafka/client';

export interface SinkServiceDeps {
  db: Db;
  secretKey: Buffer;
  urlPolicy: UrlPolicy;
  /** A rotated secret keeps verifying this long, ms. Default 86_400_000 (24 h). */
  secretGraceMs?: number;
  /** Wakes the in-process dispatcher after new work (test events, replays). */
  wake?: () => void;
}

export interface BatchInput {
  maxEvents: number;
  maxWaitMs: number;
}

export interface SinkInput {
  name?: string | null;
  url?: string | null;
  topics?: readonly string[] | null;
  status?: string | null;
  /** Omitted: unchanged; null: one event per request. */
  batch?: BatchInput | null;
}

/** The columns of a batch setting (both null: unbatched), checked against the documented ranges. */
export function validBatch(raw: BatchInput | null): { batchMaxEvents: number | null; batchMaxWaitMs: number | null } {
  if (raw === null) return { batchMaxEvents: null, batchMaxWaitMs: null };
  const { maxEvents, maxWaitMs } = raw;
  if (!Number.isInteger(maxEvents) || maxEvents < 1 || maxEvents > 1_000)
    throw badUserInput('batch.maxEvents must be 1–1000', 'batch.maxEvents');
  if (!Number.isInteger(maxWaitMs) || maxWaitMs < 0 || maxWaitMs > 10_000)
    throw badUserInput('batch.maxWaitMs must be 0–10000', 'batch.maxWaitMs');
  return { batchMaxEvents: maxEvents, batchMaxWaitMs: maxWaitMs };
}

function validName(raw: string): string {
  const name = raw.trim();
  if (name.length < 1 || name.length > 100) throw badUserInput('name must be 1–100 characters', 'name');
  return name;
}

function validTopics(raw: readonly string[]): StreamTopic[] {
  const topics = [...new Set(raw)];
  if (topics.length === 0) throw badUserInput('topics must not be empty', 'topics');
  if (!topics.every(isStreamTopic)) throw badUserInput('unknown topic', 'topics');
  return topics;
}

async function validUrl(raw: string, policy: UrlPolicy): Promise<string> {
  try {
    return (await validateSinkUrl(raw.trim(), policy)).toString();
  } catch (err) {
    if (err instanceof UrlRefusedError) throw badUserInput(err.reason, 'url');
    throw err;
  }
}

/** Sink use cases for one tenant (the caller's). Every statement runs under withTenant. */
export function createSinkService(d: SinkServiceDeps) {
  const graceMs = d.secretGraceMs ?? 86_400_000;
  const inTenant = <T>(tenantId: string, work: Parameters<typeof withTenant<T>>[2]) => withTenant(d.db, tenantId, work);

  async function mustFind(tenantId: string, id: string): Promise<StreamSinkModel> {
    const sink = await inTenant(tenantId, (tx) => findSink(tx, id));
    if (!sink) throw notFound('StreamSink', 'id');
    return sink;
  }

  return {
    list: (tenantId: string) => inTenant(tenantId, (tx) => listSinks(tx)),
    find: (tenantId: string, id: string) => inTenant(tenantId, (tx) => findSink(tx, id)),
    findMany: (tenantId: string, ids: readonly string[]) => inTenant(tenantId, (tx) => findSinks(tx, ids)),
    mustFind,

    /** Returns the sink and its secret: the only time the secret leaves the service. */
    async create(
      tenantId: string,
      input: { name: string; url: string; topics: readonly string[]; batch?: BatchInput | null },
    ) {
      const name = validName(input.name);
      const topics = validTopics(input.topics);
      const batch = validBatch(input.batch ?? null);
      const url = await validUrl(input.url, d.urlPolicy);
      const secret = generateSecret();
      const sink = await inTenant(tenantId, (tx) =>
        insertSink(tx, { tenantId, name, url, topics, secretEnc: encryptSecret(secret, d.secretKey), ...batch }),
      );
      return { sink, secret };
    },

    async update(tenantId: string, id: string, input: SinkInput) {
      await mustFind(tenantId, id);
      const data: Record<string, unknown> = {};
      if (input.name != null) data['name'] = validName(input.name);
      if (input.topics != null) data['topics'] = validTopics(input.topics);
      if (input.batch !== undefined) Object.assign(data, validBatch(input.batch));
      if (input.url != null) data['url'] = await validUrl(input.url, d.urlPolicy);
      if (input.status != null) {
        if (input.status !== 'ACTIVE' && input.status !== 'PAUSED')
          throw badUserInput('status can be set to ACTIVE or PAUSED only', 'status');
        data['status'] = input.status;
        // Re-activating a DISABLED sink starts its failure window afresh.
        if (input.status === 'ACTIVE') Object.assign(data, { disabledReason: null, failingSince: null });
      }
      const sink = await inTenant(tenantId, (tx) => tx.streamSink.update({ where: { id }, data }));
      if (input.status === 'ACTIVE') d.wake?.();
      return sink;
    },

    async remove(tenantId: string, id: string): Promise<boolean> {
      const { count } = await inTenant(tenantId, (tx) =>
        findSink(tx, id).then((s) => (s ? tx.streamSink.deleteMany({ where: { id } }) : { count: 0 })),
      );
      if (count === 0) throw notFound('StreamSink', 'id');
      return true;
    },

    /** New secret; the old one keeps signing (second signature) until the grace period ends. */
    async rotate(tenantId: string, id: string) {
      const current = await mustFind(tenantId, id);
      const secret = generateSecret();
      const sink = await inTenant(tenantId, (tx) =>
        tx.streamSink.update({
          where: { id },
          data: {
            secretEnc: encryptSecret(secret, d.secretKey),
            previousSecretEnc: current.secretEnc,
            previousSecretExpiresAt: new Date(Date.now() + graceMs),
          },
        }),
      );
      return { sink, secret };
    },

    async sendTestEvent(tenantId: string, sinkId: string) {
      const sink = await mustFind(tenantId, sinkId);
      const id = randomUUID();
      const event: EventEnvelope = {
        id,
        type: 'webhook.test.v1',
        tenantId,
        occurredAt: new Date().toISOString(),
        data: { sinkId, message: 'Test event from the location supergraph' },
      };
      const delivery = await inTenant(tenantId, (tx) =>
        tx.delivery.create({
          data: {
            tenantId,
            sinkId,
            eventId: id,
            topic: sink.topics[0] ?? 'TENANT_EVENTS',
            type: event.type,
            payload: event as unknown as object,
            orderingKey: `${tenantId}:test:${sinkId}`,
            nextAttemptAt: new Date(),
          },
        }),
      );
      d.wake?.();
      return delivery;
    },

    async replayDeadLetters(tenantId: string, sinkId: string): Promise<number> {
      await mustFind(tenantId, sinkId);
      const n = await inTenant(tenantId, (tx) => requeueDead(tx, sinkId));
      if (n > 0) d.wake?.();
      return n;
    },

    /** Unsent outbox rows: the tenant's (RLS), or every tenant's for the platform. */
    async backlog(tenantId: string | null): Promise<{ unsent: number; oldestUnsentAt: Date | null }> {
      if (tenantId === null) {
        const rows = await withSystem(
          d.db,
          (tx) => tx.$queryRaw<{ unsent: bigint; oldest_unsent_at: Date | null }[]>`SELECT * FROM app_outbox_backlog()`,
        );
        return { unsent: Number(rows[0]?.unsent ?? 0), oldestUnsentAt: rows[0]?.oldest_unsent_at ?? null };
      }
      // The relay's cursor decides what is sent (app_outbox_unsent); the tenant is the transaction's.
      const rows = await inTenant(
        tenantId,
        (tx) => tx.$queryRaw<{ unsent: bigint; oldest_unsent_at: Date | null }[]>`
          SELECT count(*) AS unsent, min(u.created_at) AS oldest_unsent_at FROM app_outbox_unsent(app_current_tenant()) u`,
      );
      return { unsent: Number(rows[0]?.unsent ?? 0), oldestUnsentAt: rows[0]?.oldest_unsent_at ?? null };
    },
  };
}
export type SinkService = ReturnType<typeof createSinkService>;
