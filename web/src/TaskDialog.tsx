import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError } from './api';
import { Comments } from './Comments';
import { PRIORITIES, STATUSES, type Member, type Task, type TaskPriority, type TaskStatus } from './types';
import { CONFLICT_MESSAGE, ErrorMessage, useSession } from './ui';

interface Props {
  task: Task | null;
  projectId: string;
  members: Member[];
  onClose: () => void;
  onSaved: (task: Task, created: boolean) => void;
  onDeleted: (id: string) => void;
}

interface Form {
  title: string;
  description: string;
  status: TaskStatus;
  priority: TaskPriority;
  dueDate: string;
  tags: string;
  assigneeId: string;
  remindAt: string;
}

/** An ISO instant as a datetime-local value (the user's own time zone), and back. */
function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

const formOf = (task: Task | null): Form => ({
  title: task?.title ?? '',
  description: task?.description ?? '',
  status: task?.status ?? 'todo',
  priority: task?.priority ?? 'medium',
  dueDate: task?.dueDate ?? '',
  tags: (task?.tags ?? []).join(', '),
  assigneeId: task?.assigneeId ?? '',
  remindAt: toLocalInput(task?.remindAt),
});

export function TaskDialog({ task, projectId, members, onClose, onSaved, onDeleted }: Props) {
  const { api } = useSession();
  const dialog = useRef<HTMLDialogElement>(null);
  const [current, setCurrent] = useState<Task | null>(task);
  const [form, setForm] = useState<Form>(formOf(task));
  const [error, setError] = useState<unknown>(null);
  const [conflict, setConflict] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
  }, []);

  const set = (name: keyof Form) => (value: string) => setForm((f) => ({ ...f, [name]: value }));
  const inProject = Boolean(projectId || current?.projectId);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setConflict(false);
    const tags = form.tags
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const fields: Record<string, unknown> = {
      title: form.title,
      description: form.description,
      status: form.status,
      priority: form.priority,
      dueDate: form.dueDate || null,
      tags,
      remindAt: form.remindAt ? new Date(form.remindAt).toISOString() : null,
    };
    if (inProject) fields.assigneeId = form.assigneeId || null;
    try {
      if (current) {
        // An unchanged reminder is not sent again: one that already fired is in the past, which the API refuses.
        if (form.remindAt === toLocalInput(current.remindAt)) delete fields.remindAt;
        const saved = await api.patch<Task>(`/tasks/${current.id}`, { version: current.version, ...fields });
        onSaved(saved, false);
      } else {
        if (projectId) fields.projectId = projectId;
        if (!fields.dueDate) delete fields.dueDate;
        if (!fields.remindAt) delete fields.remindAt;
        if (!fields.assigneeId) delete fields.assigneeId;
        onSaved(await api.post<Task>('/tasks', fields), true);
      }
      onClose();
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 409 && current) {
        // Someone else saved first: show their version; the user's edits stay in the form to apply again.
        setConflict(true);
        try {
          const latest = await api.get<Task>(`/tasks/${current.id}`);
          setCurrent(latest);
          onSaved(latest, false);
        } catch (reload) {
          setError(reload);
        }
      } else setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    if (!current) return;
    setBusy(true);
    try {
      await api.delete(`/tasks/${current.id}`);
      onDeleted(current.id);
      onClose();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <dialog ref={dialog} className="task-dialog" aria-labelledby="task-dialog-title" onClose={onClose}>
      <form onSubmit={save} method="dialog">
        <h2 id="task-dialog-title">{current ? 'Edit task' : 'New task'}</h2>
        {conflict ? (
          <p role="alert" className="conflict">
            {CONFLICT_MESSAGE} Version {current?.version} now has the title “{current?.title}” and status{' '}
            {STATUSES.find((s) => s.id === current?.status)?.label}. Your edits are still in the form: save again to apply them.
          </p>
        ) : null}
        <label>
          Title
          <input value={form.title} onChange={(e) => set('title')(e.target.value)} required maxLength={200} />
        </label>
        <label>
          Description
          <textarea value={form.description} onChange={(e) => set('description')(e.target.value)} maxLength={2000} rows={3} />
        </label>
        <div className="row">
          <label>
            Status
            <select value={form.status} onChange={(e) => set('status')(e.target.value)}>
              {STATUSES.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.label}
                </option>
              ))}
            </select>
          </label>
          <label>
            Priority
            <select value={form.priority} onChange={(e) => set('priority')(e.target.value)}>
              {PRIORITIES.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </label>
          <label>
            Due date
            <input type="date" value={form.dueDate} onChange={(e) => set('dueDate')(e.target.value)} />
          </label>
        </div>
        <label>
          Remind me at
          <input type="datetime-local" value={form.remindAt} onChange={(e) => set('remindAt')(e.target.value)} />
        </label>
        <label>
          Tags (comma separated)
          <input value={form.tags} onChange={(e) => set('tags')(e.target.value)} />
        </label>
        {inProject ? (
          <label>
            Assignee
            <select value={form.assigneeId} onChange={(e) => set('assigneeId')(e.target.value)}>
              <option value="">Unassigned</option>
              {members.map((m) => (
                <option key={m.userId} value={m.userId}>
                  {m.email ?? m.userId}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <ErrorMessage error={error} />
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Saving…' : current ? 'Save changes' : 'Create task'}
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          {current ? (
            <button type="button" className="danger" onClick={() => void remove()} disabled={busy}>
              Delete
            </button>
          ) : null}
        </div>
      </form>
      {current ? <Comments taskId={current.id} /> : null}
    </dialog>
  );
}
