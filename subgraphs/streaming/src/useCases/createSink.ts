import { withTenant } from '@lt/db';
import { encryptSecret, generateSecret } from '../crypto/secrets';
import { insertSink } from '../data/sinks';
import type { SinkUseCaseDeps } from '../deps';
import { validBatch, validName, validTopics, validUrl, type BatchInput } from '../sinks/validate';

/** Creates a sink; returns it with its secret: the only time the secret leaves the service. */
export async function createSink(
  d: SinkUseCaseDeps,
  tenantId: string,
  input: { name: string; url: string; topics: readonly string[]; batch?: BatchInput | null },
) {
  const name = validName(input.name);
  const topics = validTopics(input.topics);
  const batch = validBatch(input.batch ?? null);
  const url = await validUrl(input.url, d.urlPolicy);
  const secret = generateSecret();
  const sink = await withTenant(d.db, tenantId, (tx) =>
    insertSink(tx, { tenantId, name, url, topics, secretEnc: encryptSecret(secret, d.secretKey), ...batch }),
  );
  return { sink, secret };
}
