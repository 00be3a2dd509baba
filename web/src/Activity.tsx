import { useEffect, useState } from 'react';
import { ApiError, type ApiClient } from './api';
import type { ActivityEntry, Page, Project } from './types';
import { Empty, ErrorMessage, formatTime, Loading, useSession } from './ui';

// GET /activity (the caller's feed); GET /projects/{id}/activity once the collaboration branch lands: until then a
// project's feed is "not available yet" rather than an error.
async function feed(api: ApiClient, scope: string, nextToken: string | null): Promise<Page<ActivityEntry>> {
  return api.get(scope ? `/projects/${scope}/activity` : '/activity', { limit: 50, nextToken });
}

export function Activity({ projects }: { projects: Project[] }) {
  const { api, liveTick } = useSession();
  const [scope, setScope] = useState('');
  const [entries, setEntries] = useState<ActivityEntry[] | null>(null);
  const [nextToken, setNextToken] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [unavailable, setUnavailable] = useState(false);

  useEffect(() => {
    let cancelled = false;
    setEntries(null);
    setError(null);
    setUnavailable(false);
    feed(api, scope, null).then(
      (page) => {
        if (cancelled) return;
        setEntries(page.items);
        setNextToken(page.nextToken);
      },
      (caught) => {
        if (cancelled) return;
        if (scope && caught instanceof ApiError && caught.code === 'ROUTE_NOT_FOUND') setUnavailable(true);
        else setError(caught);
        setEntries([]);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, scope, liveTick]);

  const more = async () => {
    try {
      const page = await feed(api, scope, nextToken);
      setEntries((current) => [...(current ?? []), ...page.items]);
      setNextToken(page.nextToken);
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <section aria-labelledby="activity-title">
      <div className="toolbar">
        <h1 id="activity-title">Activity</h1>
        {projects.length ? (
          <label className="inline">
            Feed of
            <select value={scope} onChange={(e) => setScope(e.target.value)}>
              <option value="">My tasks</option>
              {projects.map((p) => (
                <option key={p.id} value={p.id}>
                  Project: {p.name}
                </option>
              ))}
            </select>
          </label>
        ) : null}
      </div>
      <ErrorMessage error={error} />
      {entries === null ? (
        <Loading what="activity" />
      ) : unavailable ? (
        <Empty title="Project activity is not available yet">This API has no project feed; it appears once deployed.</Empty>
      ) : entries.length === 0 ? (
        <Empty title="No activity yet">Changes to tasks show up here.</Empty>
      ) : (
        <ol className="feed">
          {entries.map((entry, index) => (
            <li key={`${entry.taskId}-${entry.timestamp}-${index}`}>
              <span className="feed-type">{entry.type.replace('task.', '')}</span> {entry.message}
              <span className="meta"> · {formatTime(entry.timestamp)}</span>
            </li>
          ))}
        </ol>
      )}
      {nextToken ? (
        <button type="button" onClick={() => void more()}>
          Show older activity
        </button>
      ) : null}
    </section>
  );
}
