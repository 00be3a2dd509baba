// Bulk import: a pasted JSON array (or {"tasks": [...]}) or CSV with a header row, turned into the items
// POST /tasks/ingest accepts. Each item gets a client-chosen id so the app can tell when every one is listed.

import { PRIORITIES, STATUSES, type TaskPriority, type TaskStatus } from './types';

export interface IngestItem {
  id: string;
  title: string;
  description?: string;
  status?: TaskStatus;
  priority?: TaskPriority;
  dueDate?: string;
  tags?: string[];
}

export const INGEST_BATCH = 500;

function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else cell += ch;
  }
  cells.push(cell);
  return cells.map((c) => c.trim());
}

function rows(text: string): Array<Record<string, unknown>> {
  const trimmed = text.trim();
  if (!trimmed) throw new Error('Paste a JSON list or CSV with a header row first');
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      throw new Error(`Not valid JSON: ${(error as Error).message}`);
    }
    const list = Array.isArray(parsed) ? parsed : (parsed as { tasks?: unknown }).tasks;
    if (!Array.isArray(list)) throw new Error('JSON must be a list of tasks, or {"tasks": [...]}');
    return list.map((item) => (typeof item === 'string' ? { title: item } : (item as Record<string, unknown>)));
  }
  const lines = trimmed.split(/\r?\n/).filter((line) => line.trim());
  const header = splitCsvLine(lines[0]).map((h) => h.toLowerCase());
  if (!header.includes('title')) throw new Error('The CSV header row must name a "title" column');
  return lines.slice(1).map((line) => {
    const cells = splitCsvLine(line);
    return Object.fromEntries(header.map((name, i) => [name === 'duedate' ? 'dueDate' : name, cells[i] ?? '']));
  });
}

export function parseImport(text: string, idPrefix: string): IngestItem[] {
  const statuses = new Set(STATUSES.map((s) => s.id));
  return rows(text).map((row, index) => {
    const title = String(row.title ?? '').trim();
    if (!title) throw new Error(`Row ${index + 1} has no title`);
    const item: IngestItem = { id: `${idPrefix}-${index}`, title };
    if (row.description) item.description = String(row.description);
    if (row.status && statuses.has(row.status as TaskStatus)) item.status = row.status as TaskStatus;
    if (row.priority && PRIORITIES.includes(row.priority as TaskPriority)) item.priority = row.priority as TaskPriority;
    if (row.dueDate) item.dueDate = String(row.dueDate);
    const tags = Array.isArray(row.tags) ? row.tags.map(String) : String(row.tags ?? '').split(/[;|]/);
    const cleaned = tags.map((t) => t.trim()).filter(Boolean);
    if (cleaned.length) item.tags = cleaned;
    return item;
  });
}
