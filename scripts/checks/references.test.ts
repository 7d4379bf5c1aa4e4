import { describe, expect, it } from 'vitest';
import { findOutsideReferences } from './references';

// Built from parts so this file does not trip the check it tests.
const doc = (name: string) => `${name}.${'md'}`;

describe('references check', () => {
  it('flags citations of documents, sections and issues outside the repository', () => {
    const text = [
      `// classified once (${doc('STYLE')} ${'§'}7)`,
      `/** Data model (${doc('DESIGN')}). */`,
      `# kafkajs retries for ~10 s (${doc('STACK')})`,
      `// Tenant isolation (issue ${'#'}2)`,
      `see ${'..'}/shared/${doc('STYLE')}`,
      `-- section ${'§'} 4`,
    ].join('\n');
    expect(findOutsideReferences('x.ts', text).map((c) => c.line)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('leaves references into the repository alone', () => {
    const text = [
      '// see the README, "Events and streaming"',
      '// bench/location/README.md, scripts/services/README.md',
      '// CSS: a#id, color: #123; issue a token',
    ].join('\n');
    expect(findOutsideReferences('x.ts', text)).toEqual([]);
  });
});
