import { randomBytes } from 'node:crypto';
import { withTenant, type Db } from '@lt/db';
import { appendOutbox, Topic, type EventType, type TopicName } from '@lt/events';
import { encryptSecret, generateSecret } from '../../src/crypto/secrets';
import { insertSink } from '../../src/data/sinks';
import type { StreamTopic } from '../../src/kafka/client';

/** A random 32-byte encryption key per test file. */
export const testSecretKey = (): Buffer => randomBytes(32);

/** Inserts a sink directly (the subgraph test goes through GraphQL); returns it with its secret. */
export async function createSink(
  db: Db,
  key: Buffer,
  tenantId: string,
  url: string,
  topics: StreamTopic[],
  name = 'sink',
) {
  const secret = generateSecret();
  const sink = await withTenant(db, tenantId, (tx) =>
    insertSink(tx, { tenantId, name, url, topics, secretEnc: encryptSecret(secret, key) }),
  );
  return { sink, secret };
}

const TYPES: Record<string, EventType> = {
  [Topic.LOCATION_UPDATES]: 'location.recorded.v1',
  [Topic.SESSION_EVENTS]: 'session.started.v1',
  [Topic.TENANT_EVENTS]: 'tenant.updated.v1',
};

/** Writes one event to the outbox in its own transaction (as a producing subgraph would). */
export async function emit(
  db: Db,
  tenantId: string,
  topic: TopicName,
  data: Record<string, unknown>,
  sessionId?: string,
) {
  const [env] = await withTenant(db, tenantId, (tx) =>
    appendOutbox(tx, [
      {
        topic,
        type: TYPES[topic]!,
        tenantId,
        ...(sessionId && topic !== Topic.TENANT_EVENTS ? { entityId: sessionId } : {}),
        data,
      },
    ]),
  );
  return env!;
}
