// The one HTTP client of the app: every call to the TaskApp API goes through `ApiClient.request`.
// It attaches the access token, refreshes it once on a 401 (one refresh in flight at a time: the API rotates refresh
// tokens and treats a second use of a rotated one as theft, ending the session), waits out a 429's Retry-After, and
// turns every failure into an `ApiError` carrying the API's own `{error: {code, message, details}}`.

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

export interface TokenStore {
  readonly accessToken: string | null;
  readonly refreshToken: string | null;
  save(pair: TokenPair): void;
  clear(): void;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  readonly retryAfterSeconds: number | null;

  constructor(status: number, code: string, message: string, details: unknown = null, retryAfterSeconds: number | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** True when a 400 names `field` among its details: how the app learns the API does not know a parameter yet. */
  mentionsField(field: string): boolean {
    if (this.status !== 400 || !Array.isArray(this.details)) return false;
    return this.details.some((detail) => typeof detail === 'object' && detail !== null && (detail as { field?: string }).field === field);
  }
}

type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  body?: unknown;
  query?: Query;
  headers?: Record<string, string>;
  /** Send the access token (default). Public routes (register, login, refresh) set false. */
  auth?: boolean;
}

export interface ClientOptions {
  baseUrl: string;
  store: TokenStore;
  fetch?: typeof fetch;
  /** Called once when the session cannot be refreshed any more: the app shows the login screen. */
  onSessionEnded?: (reason: ApiError) => void;
  /** Waits `ms`; injected by tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Retries of a 429 (and of a GET's 503) before its error is shown. */
  maxRetries?: number;
  /** A Retry-After longer than this is not waited out: the error is shown with the time instead. */
  maxRetryWaitSeconds?: number;
}

const RETRYABLE_503_METHODS = new Set(['GET', 'HEAD']);

export function retryAfterSeconds(value: string | null, now: number = Date.now()): number | null {
  if (!value) return null;
  const seconds = Number(value.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000));
}

async function errorFrom(response: Response): Promise<ApiError> {
  const retryAfter = retryAfterSeconds(response.headers.get('Retry-After'));
  let parsed: unknown = null;
  try {
    parsed = await response.json();
  } catch {
    parsed = null;
  }
  const error = (parsed as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  if (error && typeof error.message === 'string') {
    return new ApiError(response.status, String(error.code ?? `HTTP_${response.status}`), error.message, error.details ?? null, retryAfter);
  }
  // Something else answered (a proxy, an emulator's own page): still a message a person can read.
  const legacy = (parsed as { message?: unknown } | null)?.message;
  const message = typeof legacy === 'string' ? legacy : `The server answered ${response.status} ${response.statusText}`.trim();
  return new ApiError(response.status, `HTTP_${response.status}`, message, null, retryAfter);
}

export class ApiClient {
  private readonly baseUrl: string;
  private readonly store: TokenStore;
  private readonly fetchImpl: typeof fetch;
  private readonly onSessionEnded?: (reason: ApiError) => void;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly maxRetries: number;
  private readonly maxRetryWaitSeconds: number;
  private refreshing: Promise<void> | null = null;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.store = options.store;
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.onSessionEnded = options.onSessionEnded;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.maxRetries = options.maxRetries ?? 2;
    this.maxRetryWaitSeconds = options.maxRetryWaitSeconds ?? 10;
  }

  url(path: string, query?: Query): string {
    const url = new URL(this.baseUrl + path);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, String(value));
    }
    return url.toString();
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  post<T>(path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('POST', path, { ...options, body });
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, { body });
  }

  delete<T = void>(path: string): Promise<T> {
    return this.request<T>('DELETE', path, {});
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const auth = options.auth ?? true;
    let refreshed = false;
    for (let attempt = 0; ; attempt += 1) {
      const response = await this.send(method, path, options, auth);
      if (response.ok) return this.parse<T>(response);
      if (response.status === 401 && auth && !refreshed && this.store.refreshToken) {
        refreshed = true;
        await this.refresh();
        continue;
      }
      const error = await errorFrom(response);
      const retryable = response.status === 429 || (response.status === 503 && RETRYABLE_503_METHODS.has(method));
      const wait = error.retryAfterSeconds ?? 1;
      if (retryable && attempt < this.maxRetries && wait <= this.maxRetryWaitSeconds) {
        await this.sleep(wait * 1000);
        continue;
      }
      if (response.status === 401 && auth) this.endSession(error);
      throw error;
    }
  }

  /** Rotates the refresh token; concurrent callers share one rotation. */
  refresh(): Promise<void> {
    if (!this.refreshing) {
      this.refreshing = this.rotate().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async rotate(): Promise<void> {
    const refreshToken = this.store.refreshToken;
    if (!refreshToken) {
      const error = new ApiError(401, 'SESSION_ENDED', 'Your session has ended; log in again');
      this.endSession(error);
      throw error;
    }
    const response = await this.send('POST', '/auth/refresh', { body: { refreshToken } }, false);
    if (!response.ok) {
      const error = await errorFrom(response);
      if (response.status === 400 || response.status === 401 || response.status === 403) this.endSession(error);
      throw error;
    }
    this.store.save((await response.json()) as TokenPair);
  }

  private endSession(reason: ApiError): void {
    this.store.clear();
    this.onSessionEnded?.(reason);
  }

  private async send(method: string, path: string, options: RequestOptions, auth: boolean): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json', ...(options.headers ?? {}) };
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    const token = this.store.accessToken;
    if (auth && token) headers.Authorization = `Bearer ${token}`;
    try {
      return await this.fetchImpl(this.url(path, options.query), {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        // Tokens travel in the Authorization header, never in cookies: no credentials mode, no CSRF surface.
        credentials: 'omit',
        mode: 'cors',
      });
    } catch (cause) {
      const detail = cause instanceof Error ? cause.message : String(cause);
      throw new ApiError(0, 'NETWORK_ERROR', `Cannot reach the API (${detail}); check your connection and try again`);
    }
  }

  private async parse<T>(response: Response): Promise<T> {
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

type SessionStorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** Both tokens in this tab's sessionStorage, the access token with its expiry (docs/web.md says why): a reload of
 * the tab keeps the session without a refresh round trip; another tab or a closed one does not. */
export class SessionTokenStore implements TokenStore {
  private static readonly REFRESH = 'taskapp.refreshToken';
  private static readonly ACCESS = 'taskapp.accessToken';
  private static readonly EXPIRES = 'taskapp.accessTokenExpiresAt';
  /** An access token this close to its expiry is not used: a refresh is cheaper than a certain 401. */
  private static readonly MARGIN_MS = 30_000;
  private readonly storage: SessionStorageLike | null;
  private readonly now: () => number;

  constructor(storage: SessionStorageLike | null, now: () => number = Date.now) {
    this.storage = storage;
    this.now = now;
  }

  get accessToken(): string | null {
    const expiresAt = Number(this.storage?.getItem(SessionTokenStore.EXPIRES) ?? 0);
    if (expiresAt - SessionTokenStore.MARGIN_MS <= this.now()) return null;
    return this.storage?.getItem(SessionTokenStore.ACCESS) ?? null;
  }

  get refreshToken(): string | null {
    return this.storage?.getItem(SessionTokenStore.REFRESH) ?? null;
  }

  save(pair: TokenPair): void {
    this.storage?.setItem(SessionTokenStore.ACCESS, pair.accessToken);
    this.storage?.setItem(SessionTokenStore.EXPIRES, String(this.now() + pair.expiresIn * 1000));
    this.storage?.setItem(SessionTokenStore.REFRESH, pair.refreshToken);
  }

  clear(): void {
    for (const key of [SessionTokenStore.ACCESS, SessionTokenStore.EXPIRES, SessionTokenStore.REFRESH]) this.storage?.removeItem(key);
  }
}

/** Every page of a cursor-paged list route. */
export async function listAll<T>(client: ApiClient, path: string, query: Query = {}, maxPages = 50): Promise<T[]> {
  const items: T[] = [];
  let nextToken: string | null = null;
  for (let page = 0; page < maxPages; page += 1) {
    const result: { items: T[]; nextToken: string | null } = await client.get(path, { ...query, limit: 100, nextToken });
    items.push(...result.items);
    nextToken = result.nextToken;
    if (!nextToken) break;
  }
  return items;
}
