import { withTenant } from '@lt/db';
import { encryptSecret, generateSecret } from '../crypto/secrets';
import type { SinkUseCaseDeps } from '../deps';
import { mustFindSink } from './readSinks';

/** New secret; the old one keeps signing (second signature) until the grace period ends. */
export async function rotateSinkSecret(d: SinkUseCaseDeps, tenantId: string, id: string) {
  const current = await mustFindSink(d.db, tenantId, id);
  const secret = generateSecret();
  const sink = await withTenant(d.db, tenantId, (tx) =>
    tx.streamSink.update({
      where: { id },
      data: {
        secretEnc: encryptSecret(secret, d.secretKey),
        previousSecretEnc: current.secretEnc,
        previousSecretExpiresAt: new Date(Date.now() + d.secretGraceMs),
      },
    }),
  );
  return { sink, secret };
}
