import { useEffect, useMemo, useState } from 'react';
import { listAll, type ApiClient } from './api';
import type { ActivityEntry, Member, Page, Project } from './types';
import { Empty, ErrorMessage, formatTime, Loading, useSession } from './ui';

// GET /activity (the caller's own feed) or GET /projects/{id}/activity (a project's: its tasks, comments and members,
// whoever made the change; members only).
async function feed(api: ApiClient, scope: string, nextToken: string | null): Promise<Page<ActivityEntry>> {
  return api.get(scope ? `/projects/${scope}/activity` : '/activity', { limit: 50, nextToken });
}

export function Activity({ projects }: { projects: Project[] }) {
  const { api, liveTick, userId } = useSession();
  const [members, setMembers] = useState<Member[]>([]);
  const [scope, setScope] = useState('');
  const [entries, setEntries] = useState<ActivityEntry[] | null>(null);
  const [nextToken, setNextToken] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let cancelled = false;
    setEntries(null);
    setError(null);
    feed(api, scope, null).then(
      (page) => {
        if (cancelled) return;
        setEntries(page.items);
        setNextToken(page.nextToken);
      },
      (caught) => {
        if (cancelled) return;
        setError(caught);
        setEntries([]);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, scope, liveTick]);

  // A project's feed names who made each change: its members' emails (the API gives their ids).
  useEffect(() => {
    setMembers([]);
    if (scope) listAll<Member>(api, `/projects/${scope}/members`).then(setMembers, () => undefined);
  }, [api, scope]);
  const who = useMemo(() => new Map(members.map((m) => [m.userId, m.email ?? 'a member'])), [members]);
  const actor = (entry: ActivityEntry) =>
    !scope || !entry.actorId ? '' : entry.actorId === userId ? ' · by you' : ` · by ${who.get(entry.actorId) ?? 'a former member'}`;

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
      ) : entries.length === 0 ? (
        <Empty title="No activity yet">Changes to tasks show up here.</Empty>
      ) : (
        <ol className="feed">
          {entries.map((entry, index) => (
            <li key={`${entry.taskId}-${entry.timestamp}-${index}`}>
              <span className="feed-type">{entry.type.replace('task.', '').replace('.', ' ')}</span> {entry.message}
              <span className="meta">
                {actor(entry)} · {formatTime(entry.timestamp)}
              </span>
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
