// The board's filters and how they map to GET /tasks's query parameters (docs/data-model.md, "Filters").

export interface Filters {
  status: string;
  priority: string;
  tag: string;
  assignee: string;
  dueFrom: string;
  dueTo: string;
  sort: string;
}

export const NO_FILTERS: Filters = { status: '', priority: '', tag: '', assignee: '', dueFrom: '', dueTo: '', sort: '' };

/** `YYYY-MM-DD` moved by `days` (UTC calendar arithmetic, no time zone involved). */
export function shiftDate(date: string, days: number): string {
  const [year, month, day] = date.split('-').map(Number);
  return new Date(Date.UTC(year, month - 1, day + days)).toISOString().slice(0, 10);
}

/** The board's filters as `GET /tasks` parameters. The API serves each supported combination from one index
 * (docs/data-model.md) and answers any other with 400 UNSUPPORTED_FILTER, whose message the board shows: the app
 * does not guess the rules. Its due bounds are strict (`dueAfter`, `dueBefore`); the form's are inclusive. */
export function filterQuery(filters: Filters): Record<string, string> {
  const query: Record<string, string> = {};
  if (filters.status) query.status = filters.status;
  if (filters.priority) query.priority = filters.priority;
  const tag = filters.tag.trim();
  if (tag) query.tag = tag;
  if (filters.assignee) query.assignee = filters.assignee;
  if (filters.dueFrom) query.dueAfter = shiftDate(filters.dueFrom, -1);
  if (filters.dueTo) query.dueBefore = shiftDate(filters.dueTo, 1);
  if (filters.sort) query.sort = filters.sort;
  return query;
}
