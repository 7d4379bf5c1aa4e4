import { withTenant } from '@lt/db';
import { badUserInput } from '@lt/errors';
import type { SinkUseCaseDeps } from '../deps';
import { validBatch, validName, validTopics, validUrl, type SinkInput } from '../sinks/validate';
import { mustFindSink } from './readSinks';

/** Changes the given fields (NOT_FOUND for another tenant's sink); re-activation wakes the dispatcher. */
export async function updateSink(d: SinkUseCaseDeps, tenantId: string, id: string, input: SinkInput) {
  await mustFindSink(d.db, tenantId, id);
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
  const sink = await withTenant(d.db, tenantId, (tx) => tx.streamSink.update({ where: { id }, data }));
  if (input.status === 'ACTIVE') d.wake();
  return sink;
}
