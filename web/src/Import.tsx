import { useEffect, useRef, useState } from 'react';
import { listAll } from './api';
import { INGEST_BATCH, parseImport } from './importing';
import type { Task } from './types';
import { ErrorMessage, useSession } from './ui';

// POST /tasks/ingest accepts the tasks (202) and a Kafka consumer creates them; the progress bar counts how many of
// the accepted ids the task list already shows, polling until every one is there.
const POLL_MS = 1500;
const GIVE_UP_MS = 180_000;

export function Import() {
  const { api } = useSession();
  const [text, setText] = useState('title,priority,tags\nWrite the plan,high,work\nBook the venue,medium,event;venue');
  const [error, setError] = useState<unknown>(null);
  const [total, setTotal] = useState(0);
  const [listed, setListed] = useState(0);
  const [phase, setPhase] = useState<'idle' | 'sending' | 'waiting' | 'done' | 'stalled'>('idle');
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);

  const start = async () => {
    setError(null);
    let items;
    try {
      items = parseImport(text, `imp-${Date.now().toString(36)}`);
    } catch (caught) {
      setError(caught);
      return;
    }
    setPhase('sending');
    setTotal(items.length);
    setListed(0);
    const ids = new Set<string>();
    try {
      for (let i = 0; i < items.length; i += INGEST_BATCH) {
        const accepted = await api.post<{ ids: string[] }>('/tasks/ingest', { tasks: items.slice(i, i + INGEST_BATCH) });
        accepted.ids.forEach((id) => ids.add(id));
      }
    } catch (caught) {
      setError(caught);
      setPhase('idle');
      return;
    }
    setPhase('waiting');
    const began = Date.now();
    const poll = async () => {
      try {
        const tasks = await listAll<Task>(api, '/tasks');
        const found = tasks.filter((task) => ids.has(task.id)).length;
        setListed(found);
        if (found >= ids.size) {
          setPhase('done');
          return;
        }
      } catch (caught) {
        setError(caught);
      }
      if (Date.now() - began > GIVE_UP_MS) setPhase('stalled');
      else timer.current = setTimeout(poll, POLL_MS);
    };
    void poll();
  };

  return (
    <section aria-labelledby="import-title" className="import-screen">
      <h1 id="import-title">Bulk import</h1>
      <p>
        Paste a CSV with a header row (<code>title</code>, and optionally <code>description</code>, <code>status</code>, <code>priority</code>,{' '}
        <code>dueDate</code>, <code>tags</code> separated by <code>;</code>) or a JSON list of tasks.
      </p>
      <label>
        Tasks to import
        <textarea value={text} onChange={(e) => setText(e.target.value)} rows={10} className="mono" />
      </label>
      <button type="button" className="primary" onClick={() => void start()} disabled={phase === 'sending' || phase === 'waiting'}>
        Import tasks
      </button>
      <ErrorMessage error={error} />
      {phase !== 'idle' ? (
        <div className="progress-block">
          <label htmlFor="import-progress">
            {phase === 'sending'
              ? `Sending ${total} tasks…`
              : phase === 'done'
                ? `All ${total} tasks imported.`
                : phase === 'stalled'
                  ? `${listed} of ${total} tasks listed so far; the rest are still being processed.`
                  : `${listed} of ${total} tasks listed…`}
          </label>
          <progress id="import-progress" max={Math.max(total, 1)} value={listed} />
          <p aria-live="polite" className="visually-hidden">
            {phase === 'done' ? `All ${total} tasks imported.` : ''}
          </p>
        </div>
      ) : null}
    </section>
  );
}
