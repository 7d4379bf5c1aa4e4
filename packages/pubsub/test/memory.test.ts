import { createMemoryPubSub } from '../src/memory';
import { pubSubContract } from './contract';

pubSubContract('memory', async () => {
  const ps = createMemoryPubSub();
  return { a: ps, b: ps, stop: () => ps.close() };
});
