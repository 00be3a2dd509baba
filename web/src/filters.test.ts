import { describe, expect, it } from 'vitest';
import { filterQuery, NO_FILTERS, shiftDate } from './filters';

describe('filterQuery', () => {
  it('sends nothing without filters: the newest-first list', () => {
    expect(filterQuery(NO_FILTERS)).toEqual({});
  });

  it('maps each filter to its parameter, the tag trimmed', () => {
    expect(filterQuery({ ...NO_FILTERS, status: 'todo', assignee: 'me' })).toEqual({ status: 'todo', assignee: 'me' });
    expect(filterQuery({ ...NO_FILTERS, tag: '  launch ' })).toEqual({ tag: 'launch' });
    expect(filterQuery({ ...NO_FILTERS, priority: 'high', sort: 'priority' })).toEqual({ priority: 'high', sort: 'priority' });
  });

  it("turns the form's inclusive due dates into the API's strict bounds", () => {
    expect(filterQuery({ ...NO_FILTERS, dueFrom: '2031-03-01', dueTo: '2031-03-31' })).toEqual({ dueAfter: '2031-02-28', dueBefore: '2031-04-01' });
  });
});

describe('shiftDate', () => {
  it('crosses months, years and leap days', () => {
    expect(shiftDate('2032-03-01', -1)).toBe('2032-02-29');
    expect(shiftDate('2031-12-31', 1)).toBe('2032-01-01');
  });
});
