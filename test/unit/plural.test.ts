import { describe, expect, it } from 'vitest';
import { plural } from '../../src/shared/plural';

describe('plural', () => {
  it('says "1 image" and "N images"', () => {
    expect(plural(1, 'image')).toBe('1 image');
    expect(plural(0, 'image')).toBe('0 images');
    expect(plural(2, 'image')).toBe('2 images');
    expect(plural(20000, 'pixel')).toBe('20000 pixels');
  });

  it('takes an irregular plural', () => {
    expect(plural(1, 'study', 'studies')).toBe('1 study');
    expect(plural(3, 'study', 'studies')).toBe('3 studies');
  });
});
