import type { DeliveryModel } from '@lt/db';

export const deliveryResolvers = {
  // The response body and payload stay internal; the API shows status and metadata only.
  nextAttemptAt: (d: DeliveryModel) => (d.status === 'PENDING' ? d.nextAttemptAt : null),
};
