/** Entity representations go to the subgraph once each; answers and errors come back to every occurrence. */
import { describe, expect, it } from 'vitest';
import { dedupeRepresentations, expandEntities } from './representations';

const u = (id: string) => ({ __typename: 'User', id });

describe('representation deduplication', () => {
  it('sends each distinct representation once and maps the answers back', () => {
    const d = dedupeRepresentations([u('1'), u('2'), u('1'), u('3'), u('2')])!;
    expect(d.unique).toEqual([u('1'), u('2'), u('3')]);
    const res = expandEntities({ data: { _entities: [{ email: 'a' }, { email: 'b' }, null] } }, d);
    const entities = res.data!['_entities'] as unknown[];
    expect(entities).toEqual([{ email: 'a' }, { email: 'b' }, { email: 'a' }, null, { email: 'b' }]);
    // Each occurrence is its own object: the gateway merges later fetches into them.
    expect(entities[0]).not.toBe(entities[2]);
  });

  it('repeats an entity error at every occurrence', () => {
    const d = dedupeRepresentations([u('1'), u('2'), u('2')])!;
    const res = expandEntities(
      {
        data: { _entities: [{ email: 'a' }, null] },
        errors: [{ message: 'nope', path: ['_entities', 1, 'email'] }, { message: 'other' }],
      },
      d,
    );
    expect(res.errors).toEqual([
      { message: 'nope', path: ['_entities', 1, 'email'] },
      { message: 'nope', path: ['_entities', 2, 'email'] },
      { message: 'other' },
    ]);
  });

  it('leaves distinct representations alone', () => {
    expect(dedupeRepresentations([u('1'), u('2')])).toBeNull();
  });
});
