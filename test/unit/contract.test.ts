import { describe, expect, it } from 'vitest';
import { ApiError, methodNames, parseInput } from '../../src/shared/contract';
import { Service } from '../../src/core/service';

describe('contract', () => {
  it('has a handler for every method', () => {
    expect(Service.missingHandlers()).toEqual([]);
    expect(methodNames.length).toBeGreaterThan(5);
  });

  it('rejects bad input with the schema message', () => {
    expect(() => parseInput('jobs.cancel', { id: 1 })).toThrow(ApiError);
    expect(() => parseInput('app.info', { extra: true })).toThrow(/app\.info/);
    expect(parseInput('jobs.cancel', { id: 'abc' })).toEqual({ id: 'abc' });
  });
});
