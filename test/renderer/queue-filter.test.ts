import { describe, expect, it } from 'vitest';
import { queueFilter } from '../../src/renderer/src/training/training-model';

describe('active-learning queue filters', () => {
  it('labelling queues take unreviewed images outside the locked test split', () => {
    for (const sort of ['uncertainty', 'disagreement'] as const) {
      expect(queueFilter({ search: 'covid' }, sort)).toEqual({
        search: 'covid',
        state: 'unreviewed',
        splits: ['train', 'control', 'unassigned'],
      });
      // A test-split filter cannot bring test images into a labelling queue.
      expect(queueFilter({ split: 'test' }, sort).split).toBeUndefined();
      expect(queueFilter({ split: 'train' }, sort).split).toBe('train');
    }
    expect(queueFilter({ split: 'test' }, 'changed')).toEqual({ split: 'test' });
  });
});
