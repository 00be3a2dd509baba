import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Activity } from './Activity';
import { ApiClient, ApiError, listAll, SessionTokenStore, type TokenPair } from './api';
import { AuthScreen } from './Auth';
import { Bell } from './Bell';
import { Board } from './Board';
import { Import } from './Import';
import { Projects } from './Projects';
import { openNotificationSocket } from './socket';
import type { AppConfig, Notification, Project } from './types';
import { ErrorMessage, Loading, SessionContext, userIdOf, type Session } from './ui';

type Route = 'login' | 'register' | 'board' | 'projects' | 'activity' | 'import';
const SIGNED_IN_ROUTES: Route[] = ['board', 'projects', 'activity', 'import'];
const EMAIL_KEY = 'taskapp.email';

function routeOf(hash: string): Route {
  const name = hash.replace(/^#\/?/, '') as Route;
  return ['login', 'register', ...SIGNED_IN_ROUTES].includes(name) ? name : 'board';
}

function useRoute(): [Route, (route: Route) => void] {
  const [route, setRoute] = useState<Route>(routeOf(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(routeOf(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  const go = useCallback((next: Route) => {
    window.location.hash = `#/${next}`;
    setRoute(next);
  }, []);
  return [route, go];
}

export function App({ config }: { config: AppConfig }) {
  const store = useMemo(() => new SessionTokenStore(window.sessionStorage), []);
  const [signedIn, setSignedIn] = useState<boolean | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [route, go] = useRoute();
  const endedRef = useRef<(reason: ApiError) => void>(() => undefined);
  const api = useMemo(
    () => new ApiClient({ baseUrl: config.apiUrl, store, onSessionEnded: (reason) => endedRef.current(reason) }),
    [config.apiUrl, store],
  );

  endedRef.current = (reason) => {
    setSignedIn(false);
    setNotice(`You were signed out: ${reason.message}`);
    go('login');
  };

  // A reload keeps the session: a current access token is used as it is, else the refresh token buys one.
  useEffect(() => {
    if (store.accessToken) {
      setSignedIn(true);
      return;
    }
    if (!store.refreshToken) {
      setSignedIn(false);
      return;
    }
    api.refresh().then(
      () => setSignedIn(true),
      () => setSignedIn(false),
    );
  }, [api, store]);

  const onSignedIn = (pair: TokenPair, email: string) => {
    store.save(pair);
    window.sessionStorage.setItem(EMAIL_KEY, email);
    setNotice(null);
    setSignedIn(true);
    go('board');
  };

  const logout = async () => {
    try {
      await api.post('/auth/logout');
    } catch {
      // Signed out locally whatever the API said: the tokens are dropped below.
    }
    store.clear();
    window.sessionStorage.removeItem(EMAIL_KEY);
    setSignedIn(false);
    setNotice('You have logged out.');
    go('login');
  };

  if (signedIn === null) {
    return (
      <main className="centered">
        <Loading what="your session" />
      </main>
    );
  }
  if (!signedIn) {
    return <AuthScreen api={api} mode={route === 'register' ? 'register' : 'login'} notice={notice} onSignedIn={onSignedIn} />;
  }
  return <SignedIn api={api} store={store} config={config} route={SIGNED_IN_ROUTES.includes(route) ? route : 'board'} onLogout={logout} />;
}

interface SignedInProps {
  api: ApiClient;
  store: SessionTokenStore;
  config: AppConfig;
  route: Route;
  onLogout: () => Promise<void>;
}

function SignedIn({ api, store, config, route, onLogout }: SignedInProps) {
  const [liveTick, setLiveTick] = useState(0);
  const [unread, setUnread] = useState(0);
  const [latest, setLatest] = useState<Notification[]>([]);
  const [live, setLive] = useState(false);
  const [projects, setProjects] = useState<Project[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [announcement, setAnnouncement] = useState('');

  const loadProjects = useCallback(async () => {
    try {
      setProjects(await listAll<Project>(api, '/projects'));
    } catch (caught) {
      setError(caught);
      setProjects([]);
    }
  }, [api]);

  useEffect(() => {
    void loadProjects();
    api.get<{ unread: number }>('/notifications/unread-count').then((r) => setUnread(r.unread), setError);
  }, [api, loadProjects]);

  useEffect(() => {
    if (!config.webSocketUrl) return;
    const socket = openNotificationSocket(
      config.webSocketUrl,
      () => store.accessToken,
      (notification) => {
        setUnread((n) => n + 1);
        setLatest((current) => [notification, ...current].slice(0, 20));
        setAnnouncement(`New notification: ${notification.title}`);
        setLiveTick((t) => t + 1);
        if (notification.projectId) void loadProjects();
      },
      setLive,
    );
    return () => socket.close();
  }, [config.webSocketUrl, store, loadProjects]);

  const session: Session = {
    api,
    userId: userIdOf(store.accessToken ?? ''),
    email: window.sessionStorage.getItem(EMAIL_KEY) ?? '',
    liveTick,
  };

  const link = (target: Route, label: string) => (
    <a href={`#/${target}`} aria-current={route === target ? 'page' : undefined}>
      {label}
    </a>
  );

  return (
    <SessionContext.Provider value={session}>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="app-header">
        <span className="brand">TaskApp</span>
        <nav aria-label="Main">
          {link('board', 'Board')}
          {link('projects', 'Projects')}
          {link('activity', 'Activity')}
          {link('import', 'Import')}
        </nav>
        <div className="header-right">
          <Bell unread={unread} setUnread={setUnread} latest={latest} live={live} />
          <span className="who">{session.email}</span>
          <button type="button" onClick={() => void onLogout()}>
            Log out
          </button>
        </div>
      </header>
      <p className="visually-hidden" aria-live="polite">
        {announcement}
      </p>
      <main id="main" tabIndex={-1}>
        <ErrorMessage error={error} />
        {route === 'board' ? (
          <Board projects={projects ?? []} />
        ) : route === 'projects' ? (
          <Projects projects={projects} reload={loadProjects} />
        ) : route === 'activity' ? (
          <Activity projects={projects ?? []} />
        ) : (
          <Import />
        )}
      </main>
    </SessionContext.Provider>
  );
}
