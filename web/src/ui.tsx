import { createContext, useContext, type ReactNode } from 'react';
import { ApiError, type ApiClient } from './api';

export interface Session {
  api: ApiClient;
  userId: string;
  email: string;
  /** Bumped when a live notification arrives, so open screens reload what it is about. */
  liveTick: number;
}

export const CONFLICT_MESSAGE = 'This task was changed elsewhere; the latest version is shown.';

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in screen');
  return session;
}

export function messageOf(error: unknown): string {
  if (error instanceof ApiError) {
    const wait = error.status === 429 && error.retryAfterSeconds ? ` (try again in ${error.retryAfterSeconds} s)` : '';
    // A validation error names its fields: "tags: List should have at most 10 items after validation".
    const fields = Array.isArray(error.details)
      ? error.details
          .filter((d): d is { field?: string; message: string } => typeof d === 'object' && d !== null && typeof d.message === 'string')
          .map((d) => (d.field ? `${d.field}: ${d.message}` : d.message))
      : [];
    return `${error.message}${wait}${fields.length ? ` (${fields.join('; ')})` : ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}

export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p role="alert" className="error">
      {messageOf(error)}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      Loading {what}…
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children ? <p>{children}</p> : null}
    </div>
  );
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** The `sub` claim of a JWT: the user id (the token is the API's; this only reads it, never trusts it). */
export function userIdOf(accessToken: string): string {
  try {
    const payload = accessToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return String(JSON.parse(atob(payload)).sub ?? '');
  } catch {
    return '';
  }
}
