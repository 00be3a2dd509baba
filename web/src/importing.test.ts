import { describe, expect, it } from 'vitest';
import { parseImport } from './importing';

describe('parseImport', () => {
  it('reads CSV with quotes, tags and unknown values dropped', () => {
    const items = parseImport('title,priority,tags,dueDate\n"Buy milk, eggs",high,home;errand,2030-01-02\nCall,urgent,,', 'imp');
    expect(items).toEqual([
      { id: 'imp-0', title: 'Buy milk, eggs', priority: 'high', tags: ['home', 'errand'], dueDate: '2030-01-02' },
      { id: 'imp-1', title: 'Call' },
    ]);
  });

  it('reads a JSON list or {tasks}', () => {
    expect(parseImport('["a", {"title": "b", "status": "done"}]', 'x')).toEqual([
      { id: 'x-0', title: 'a' },
      { id: 'x-1', title: 'b', status: 'done' },
    ]);
    expect(parseImport('{"tasks": [{"title": "c"}]}', 'y')).toHaveLength(1);
  });

  it('says what is wrong', () => {
    expect(() => parseImport('', 'p')).toThrow(/Paste/);
    expect(() => parseImport('name\nx', 'p')).toThrow(/title/);
    expect(() => parseImport('[{"title": ""}]', 'p')).toThrow(/Row 1/);
    expect(() => parseImport('[oops', 'p')).toThrow(/JSON/);
  });
});
