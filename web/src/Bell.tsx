import { useEffect, useRef, useState } from 'react';
import type { Notification, Page } from './types';
import { Empty, ErrorMessage, formatTime, Loading, useSession } from './ui';

interface Props {
  unread: number;
  setUnread: (update: (n: number) => number) => void;
  latest: Notification[];
  live: boolean;
}

export function Bell({ unread, setUnread, latest, live }: Props) {
  const { api } = useSession();
  const [open, setOpen] = useState(false);
  const [items, setItems] = useState<Notification[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const panel = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    setError(null);
    api.get<Page<Notification>>('/notifications', { limit: 20 }).then(
      (page) => setItems(page.items),
      (caught) => {
        setError(caught);
        setItems([]);
      },
    );
  }, [api, open]);

  // Pushed notifications show at once in an open panel.
  useEffect(() => {
    if (!latest.length) return;
    setItems((current) => (current === null ? current : [...latest.filter((n) => !current.some((c) => c.id === n.id)), ...current]));
  }, [latest]);

  const markRead = async (notification: Notification) => {
    try {
      await api.post(`/notifications/${notification.id}/read`);
      setItems((current) => (current ?? []).map((n) => (n.id === notification.id ? { ...n, readAt: new Date().toISOString() } : n)));
      if (!notification.readAt) setUnread((n) => Math.max(0, n - 1));
    } catch (caught) {
      setError(caught);
    }
  };

  const markAll = async () => {
    try {
      await api.post('/notifications/read-all');
      setItems((current) => (current ?? []).map((n) => ({ ...n, readAt: n.readAt ?? new Date().toISOString() })));
      setUnread(() => 0);
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <div className="bell">
      <button
        type="button"
        aria-expanded={open}
        aria-controls="notification-panel"
        onClick={() => setOpen((o) => !o)}
        aria-label={`Notifications, ${unread} unread${live ? '' : ' (live updates offline)'}`}
      >
        <svg aria-hidden="true" width="18" height="18" viewBox="0 0 24 24" fill="currentColor">
          <path d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z" />
        </svg>
        <span className="unread-count" data-testid="unread-count" aria-hidden="true">
          {unread}
        </span>
      </button>
      {open ? (
        <div id="notification-panel" className="panel" ref={panel} role="region" aria-label="Notifications">
          <div className="panel-head">
            <h2>Notifications</h2>
            <button type="button" onClick={() => void markAll()} disabled={!unread}>
              Mark all read
            </button>
          </div>
          <ErrorMessage error={error} />
          {items === null ? (
            <Loading what="notifications" />
          ) : items.length === 0 ? (
            <Empty title="You are all caught up">Notifications about your tasks and projects appear here.</Empty>
          ) : (
            <ul className="plain notifications">
              {items.map((n) => (
                <li key={n.id} className={n.readAt ? 'read' : 'unread'}>
                  <p>
                    <strong>{n.title}</strong> {n.message}
                  </p>
                  <p className="meta">
                    {formatTime(n.createdAt)}
                    {n.readAt ? (
                      ' · read'
                    ) : (
                      <button type="button" className="link" onClick={() => void markRead(n)}>
                        Mark “{n.title}” read
                      </button>
                    )}
                  </p>
                </li>
              ))}
            </ul>
          )}
        </div>
      ) : null}
    </div>
  );
}
