import { startTransition, useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import { ApiError, listAll } from './api';
import { filterQuery, NO_FILTERS, type Filters } from './filters';
import { TaskDialog } from './TaskDialog';
import { PRIORITIES, STATUSES, type Member, type Page, type Project, type Task, type TaskStatus } from './types';
import { CONFLICT_MESSAGE, Empty, ErrorMessage, Loading, useSession } from './ui';

export function Board({ projects }: { projects: Project[] }) {
  const { api, liveTick } = useSession();
  const [scope, setScope] = useState<string>('');
  const [tasks, setTasks] = useState<Task[] | null>(null);
  const [members, setMembers] = useState<Member[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  // What the list was last asked with: typing a tag waits for a pause instead of one request per key.
  const [applied, setApplied] = useState<Filters>(NO_FILTERS);
  const [editing, setEditing] = useState<Task | 'new' | null>(null);
  const [busyId, setBusyId] = useState<string | null>(null);

  // Each load's number: a slower answer to an older query (the filters changed meanwhile) must never overwrite
  // the board of a newer one, so only the latest load may set the tasks or the error.
  const latestLoad = useRef(0);

  const load = useCallback(async () => {
    const mine = ++latestLoad.current;
    setError(null);
    try {
      const query: Record<string, string> = { ...filterQuery(applied), ...(scope ? { projectId: scope } : {}) };
      // Page by page: the first hundred cards show while the next page loads. Rendered as a transition, so
      // React yields to the browser while it builds a big board instead of blocking input.
      const loaded: Task[] = [];
      let nextToken: string | null = null;
      do {
        const page: Page<Task> = await api.get('/tasks', { ...query, limit: 100, nextToken });
        if (mine !== latestLoad.current) return;
        loaded.push(...page.items);
        nextToken = page.nextToken;
        const snapshot = [...loaded];
        startTransition(() => setTasks(snapshot));
      } while (nextToken);
    } catch (caught) {
      if (mine !== latestLoad.current) return;
      // An unsupported combination of filters is a 400 whose message lists the supported ones.
      startTransition(() => setTasks(null));
      setError(caught);
    }
  }, [api, scope, applied]);

  useEffect(() => {
    const timer = setTimeout(() => setApplied(filters), filters.tag === applied.tag ? 0 : 400);
    return () => clearTimeout(timer);
  }, [filters, applied.tag]);

  useEffect(() => {
    setTasks(null);
    void load();
  }, [load]);

  useEffect(() => {
    if (liveTick) void load();
  }, [liveTick, load]);

  useEffect(() => {
    if (!scope) {
      setMembers([]);
      return;
    }
    listAll<Member>(api, `/projects/${scope}/members`).then(setMembers, setError);
  }, [api, scope]);

  const memberName = useMemo(() => new Map(members.map((m) => [m.userId, m.email ?? m.userId])), [members]);
  const filtering = Object.entries(applied).some(([name, value]) => name !== 'sort' && Boolean(value));
  const visible = tasks ?? [];
  const replace = (task: Task) => setTasks((current) => (current ?? []).map((t) => (t.id === task.id ? task : t)));

  const move = async (task: Task, status: TaskStatus) => {
    if (task.status === status) return;
    setBusyId(task.id);
    setNotice(null);
    setError(null);
    try {
      replace(await api.patch<Task>(`/tasks/${task.id}`, { version: task.version, status }));
      setNotice(`Moved “${task.title}” to ${STATUSES.find((s) => s.id === status)?.label}.`);
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 409) {
        setNotice(`“${task.title}”: ${CONFLICT_MESSAGE}`);
        try {
          replace(await api.get<Task>(`/tasks/${task.id}`));
        } catch (reload) {
          setError(reload);
        }
      } else setError(caught);
    } finally {
      setBusyId(null);
    }
  };

  const onDrop = (event: DragEvent<HTMLElement>, status: TaskStatus) => {
    event.preventDefault();
    const task = tasks?.find((t) => t.id === event.dataTransfer.getData('text/plain'));
    if (task) void move(task, status);
  };

  const setFilter = (name: keyof Filters) => (value: string) => setFilters((f) => ({ ...f, [name]: value }));
  const activeProjects = projects.filter((p) => !p.archived);

  return (
    <section aria-labelledby="board-title" className="board-screen">
      <div className="toolbar">
        <h1 id="board-title">Board</h1>
        {activeProjects.length ? (
          <label className="inline">
            Board of
            <select
              value={scope}
              onChange={(e) => {
                // An assignee belongs to the project board it was chosen on.
                setFilters((f) => ({ ...f, assignee: '' }));
                setScope(e.target.value);
              }}
            >
              <option value="">My personal tasks</option>
              {activeProjects.map((p) => (
                <option key={p.id} value={p.id}>
                  Project: {p.name}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <button type="button" className="primary" onClick={() => setEditing('new')}>
          New task
        </button>
      </div>

      <fieldset className="filters">
        <legend>Filters</legend>
        <label>
          Status
          <select value={filters.status} onChange={(e) => setFilter('status')(e.target.value)}>
            <option value="">Any</option>
            {STATUSES.map((s) => (
              <option key={s.id} value={s.id}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Priority
          <select value={filters.priority} onChange={(e) => setFilter('priority')(e.target.value)}>
            <option value="">Any</option>
            {PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <label>
          Tag
          <input value={filters.tag} onChange={(e) => setFilter('tag')(e.target.value)} placeholder="any tag" />
        </label>
        {scope ? (
          <label>
            Assignee
            <select value={filters.assignee} onChange={(e) => setFilter('assignee')(e.target.value)}>
              <option value="">Anyone</option>
              <option value="me">Me</option>
              {members.map((m) => (
                <option key={m.userId} value={m.userId}>
                  {m.email ?? m.userId}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <label>
          Due from
          <input type="date" value={filters.dueFrom} onChange={(e) => setFilter('dueFrom')(e.target.value)} />
        </label>
        <label>
          Due until
          <input type="date" value={filters.dueTo} onChange={(e) => setFilter('dueTo')(e.target.value)} />
        </label>
        <label>
          Sort by
          <select value={filters.sort} onChange={(e) => setFilter('sort')(e.target.value)}>
            <option value="">Newest first</option>
            <option value="dueDate">Due date</option>
            <option value="priority">Priority</option>
          </select>
        </label>
        <button type="button" onClick={() => setFilters(NO_FILTERS)}>
          Clear filters
        </button>
      </fieldset>

      <div aria-live="polite" className="live-region">
        {notice ? <p className="notice">{notice}</p> : null}
      </div>
      <ErrorMessage error={error} />

      {tasks === null ? (
        error ? null : <Loading what="tasks" />
      ) : (
        <div className="columns">
          {STATUSES.map((column) => {
            const cards = visible.filter((task) => task.status === column.id);
            return (
              <section
                key={column.id}
                className="column"
                aria-labelledby={`col-${column.id}`}
                onDragOver={(e) => e.preventDefault()}
                onDrop={(e) => onDrop(e, column.id)}
                data-status={column.id}
              >
                <h2 id={`col-${column.id}`}>
                  {column.label} <span className="count">{cards.length}</span>
                </h2>
                {cards.length === 0 ? (
                  <Empty title={tasks.length || filtering ? 'Nothing here' : 'No tasks yet'}>
                    {filtering
                      ? 'No task in this column matches the filters.'
                      : tasks.length
                        ? 'Move a card here with its “Move to” list or by dragging it.'
                        : column.id === 'todo'
                          ? 'Create one with “New task”.'
                          : null}
                  </Empty>
                ) : (
                  <ul className="cards">
                    {cards.map((task) => (
                      <li
                        key={task.id}
                        className={`task-card priority-${task.priority}`}
                        draggable
                        onDragStart={(e) => e.dataTransfer.setData('text/plain', task.id)}
                        aria-busy={busyId === task.id}
                        data-task-id={task.id}
                      >
                        <button type="button" className="task-title" onClick={() => setEditing(task)}>
                          {task.title}
                        </button>
                        <div className="meta">
                          <span className={`badge ${task.priority}`}>{task.priority}</span>
                          {task.dueDate ? <span>Due {task.dueDate}</span> : null}
                          {task.assigneeId ? <span>→ {memberName.get(task.assigneeId) ?? 'assigned'}</span> : null}
                        </div>
                        {task.tags.length ? (
                          <ul className="tags" aria-label="Tags">
                            {task.tags.map((tag) => (
                              <li key={tag}>{tag}</li>
                            ))}
                          </ul>
                        ) : null}
                        <label className="move">
                          Move “{task.title}” to
                          <select value={task.status} onChange={(e) => void move(task, e.target.value as TaskStatus)} disabled={busyId === task.id}>
                            {STATUSES.map((s) => (
                              <option key={s.id} value={s.id}>
                                {s.label}
                              </option>
                            ))}
                          </select>
                        </label>
                      </li>
                    ))}
                  </ul>
                )}
              </section>
            );
          })}
        </div>
      )}

      {editing ? (
        <TaskDialog
          task={editing === 'new' ? null : editing}
          projectId={scope}
          members={members}
          onClose={() => setEditing(null)}
          onSaved={(task, created) => {
            setTasks((current) => (created ? [task, ...(current ?? [])] : (current ?? []).map((t) => (t.id === task.id ? task : t))));
          }}
          onDeleted={(id) => setTasks((current) => (current ?? []).filter((t) => t.id !== id))}
        />
      ) : null}
    </section>
  );
}
