import { describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError, listAll, retryAfterSeconds, SessionTokenStore, type TokenPair, type TokenStore } from './api';

class MemoryStore implements TokenStore {
  accessToken: string | null;
  refreshToken: string | null;
  constructor(access: string | null = 'access-1', refresh: string | null = 'refresh-1') {
    this.accessToken = access;
    this.refreshToken = refresh;
  }
  save(pair: TokenPair): void {
    this.accessToken = pair.accessToken;
    this.refreshToken = pair.refreshToken;
  }
  clear(): void {
    this.accessToken = null;
    this.refreshToken = null;
  }
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

const apiError = (code: string, message: string, details: unknown = null) => ({ error: { code, message, details } });

type Call = { url: string; init: RequestInit };

function fakeFetch(...responses: Array<Response | ((call: Call) => Response)>) {
  const calls: Call[] = [];
  const impl = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const call = { url: String(input), init: init ?? {} };
    calls.push(call);
    const next = responses.shift();
    if (!next) throw new Error(`unexpected request ${call.url}`);
    return typeof next === 'function' ? next(call) : next;
  });
  return { impl: impl as unknown as typeof fetch, calls };
}

const header = (call: Call, name: string) => (call.init.headers as Record<string, string>)[name];

function client(fetchImpl: typeof fetch, store: TokenStore = new MemoryStore(), extra: Partial<ConstructorParameters<typeof ApiClient>[0]> = {}) {
  const sleep = vi.fn(async () => undefined);
  const onSessionEnded = vi.fn();
  const api = new ApiClient({ baseUrl: 'https://api.example.test/local/', store, fetch: fetchImpl, sleep, onSessionEnded, ...extra });
  return { api, sleep, onSessionEnded, store };
}

describe('requests', () => {
  it('sends the bearer token, JSON body and query without empty values', async () => {
    const { impl, calls } = fakeFetch(json(200, { ok: true }));
    const { api } = client(impl);
    await api.request('POST', '/tasks', { body: { title: 'a' }, query: { status: 'todo', nextToken: null, tag: '' } });
    expect(calls[0].url).toBe('https://api.example.test/local/tasks?status=todo');
    expect(header(calls[0], 'Authorization')).toBe('Bearer access-1');
    expect(header(calls[0], 'Content-Type')).toBe('application/json');
    expect(calls[0].init.body).toBe('{"title":"a"}');
    expect(calls[0].init.credentials).toBe('omit');
  });

  it('public routes carry no token', async () => {
    const { impl, calls } = fakeFetch(json(201, { id: 'u1' }));
    const { api } = client(impl);
    await api.post('/auth/register', { email: 'a@b.c' }, { auth: false });
    expect(header(calls[0], 'Authorization')).toBeUndefined();
  });

  it('a 204 resolves to undefined', async () => {
    const { impl } = fakeFetch(new Response(null, { status: 204 }));
    await expect(client(impl).api.delete('/tasks/1')).resolves.toBeUndefined();
  });
});

describe('error shapes', () => {
  it("surfaces the API's code, message and details", async () => {
    const details = [{ location: 'body', field: 'title', message: 'Field required', type: 'missing' }];
    const { impl } = fakeFetch(json(400, apiError('VALIDATION_ERROR', 'Request is not valid', details)));
    const error = await client(impl).api.post('/tasks', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, code: 'VALIDATION_ERROR', message: 'Request is not valid', details });
    expect((error as ApiError).mentionsField('title')).toBe(true);
    expect((error as ApiError).mentionsField('projectId')).toBe(false);
  });

  it('a 409 keeps the conflict code for the "changed elsewhere" message', async () => {
    const { impl } = fakeFetch(json(409, apiError('VERSION_CONFLICT', 'Task was modified by another request', { currentVersion: 3 })));
    await expect(client(impl).api.patch('/tasks/1', { version: 1 })).rejects.toMatchObject({ status: 409, code: 'VERSION_CONFLICT' });
  });

  it('a body that is not the error shape still gives a readable message', async () => {
    const { impl } = fakeFetch(new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
    await expect(client(impl).api.get('/tasks')).rejects.toMatchObject({ status: 502, code: 'HTTP_502', message: 'The server answered 502 Bad Gateway' });
  });

  it("a gateway's {message} body is shown as it is", async () => {
    const { impl } = fakeFetch(json(403, { message: 'Forbidden' }));
    await expect(client(impl).api.get('/tasks')).rejects.toMatchObject({ status: 403, message: 'Forbidden' });
  });

  it('a network failure is an ApiError too', async () => {
    const impl = vi.fn(async () => {
      throw new TypeError('Failed to fetch');
    }) as unknown as typeof fetch;
    await expect(client(impl).api.get('/tasks')).rejects.toMatchObject({ status: 0, code: 'NETWORK_ERROR' });
  });
});

describe('refresh', () => {
  it('on a 401 rotates the refresh token once and retries with the new access token', async () => {
    const { impl, calls } = fakeFetch(
      json(401, apiError('UNAUTHORIZED', 'Missing or invalid access token')),
      json(200, { accessToken: 'access-2', refreshToken: 'refresh-2', expiresIn: 900 }),
      json(200, { items: [] }),
    );
    const { api, store, onSessionEnded } = client(impl);
    await expect(api.get('/tasks')).resolves.toEqual({ items: [] });
    expect(calls[1].url).toBe('https://api.example.test/local/auth/refresh');
    expect(calls[1].init.body).toBe('{"refreshToken":"refresh-1"}');
    expect(header(calls[1], 'Authorization')).toBeUndefined();
    expect(header(calls[2], 'Authorization')).toBe('Bearer access-2');
    expect(store.refreshToken).toBe('refresh-2');
    expect(onSessionEnded).not.toHaveBeenCalled();
  });

  it('concurrent 401s share one rotation (a second use of a rotated token would end the session)', async () => {
    let refreshes = 0;
    const responder = (call: Call): Response => {
      if (call.url.endsWith('/auth/refresh')) {
        refreshes += 1;
        return json(200, { accessToken: 'access-2', refreshToken: 'refresh-2', expiresIn: 900 });
      }
      return header(call, 'Authorization') === 'Bearer access-2' ? json(200, { ok: call.url }) : json(401, apiError('UNAUTHORIZED', 'expired'));
    };
    const { impl } = fakeFetch(...Array.from({ length: 7 }, () => responder));
    const { api } = client(impl);
    const results = await Promise.all([api.get('/a'), api.get('/b'), api.get('/c')]);
    expect(results).toHaveLength(3);
    expect(refreshes).toBe(1);
  });

  it('a refused refresh ends the session and clears the tokens', async () => {
    const { impl } = fakeFetch(
      json(401, apiError('UNAUTHORIZED', 'expired')),
      json(401, apiError('REFRESH_TOKEN_REUSED', 'Refresh token was already used; the session has been revoked')),
    );
    const { api, store, onSessionEnded } = client(impl);
    await expect(api.get('/tasks')).rejects.toMatchObject({ code: 'REFRESH_TOKEN_REUSED' });
    expect(store.accessToken).toBeNull();
    expect(store.refreshToken).toBeNull();
    expect(onSessionEnded).toHaveBeenCalledOnce();
  });

  it('a 401 after a successful refresh is not retried again (a revoked token)', async () => {
    const { impl, calls } = fakeFetch(
      json(401, apiError('UNAUTHORIZED', 'expired')),
      json(200, { accessToken: 'access-2', refreshToken: 'refresh-2', expiresIn: 900 }),
      json(401, apiError('TOKEN_REVOKED', 'Token has been revoked')),
    );
    const { api, onSessionEnded } = client(impl);
    await expect(api.get('/tasks')).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    expect(calls).toHaveLength(3);
    expect(onSessionEnded).toHaveBeenCalledOnce();
  });

  it('a 401 on a public route (wrong password) is shown, not refreshed', async () => {
    const { impl, calls } = fakeFetch(json(401, apiError('INVALID_CREDENTIALS', 'Invalid email or password')));
    const { api, onSessionEnded } = client(impl);
    await expect(api.post('/auth/login', {}, { auth: false })).rejects.toMatchObject({ message: 'Invalid email or password' });
    expect(calls).toHaveLength(1);
    expect(onSessionEnded).not.toHaveBeenCalled();
  });
});

describe('429 with Retry-After', () => {
  it('waits the advertised seconds, then retries', async () => {
    const { impl, calls } = fakeFetch(json(429, apiError('RATE_LIMITED', 'Too many requests'), { 'Retry-After': '3' }), json(200, { ok: 1 }));
    const { api, sleep } = client(impl);
    await expect(api.post('/tasks', { title: 'x' })).resolves.toEqual({ ok: 1 });
    expect(sleep).toHaveBeenCalledWith(3000);
    expect(calls).toHaveLength(2);
  });

  it('gives up after maxRetries with the time to wait', async () => {
    const limited = () => json(429, apiError('RATE_LIMITED', 'Too many requests; retry after the time in Retry-After'), { 'Retry-After': '2' });
    const { impl, calls } = fakeFetch(limited, limited, limited);
    const { api } = client(impl, new MemoryStore(), { maxRetries: 2 });
    await expect(api.get('/tasks')).rejects.toMatchObject({ status: 429, retryAfterSeconds: 2 });
    expect(calls).toHaveLength(3);
  });

  it('does not sleep through a long Retry-After: the error says how long instead', async () => {
    const { impl, calls } = fakeFetch(json(429, apiError('RATE_LIMITED', 'Too many requests'), { 'Retry-After': '120' }));
    const { api, sleep } = client(impl);
    await expect(api.get('/tasks')).rejects.toMatchObject({ retryAfterSeconds: 120 });
    expect(sleep).not.toHaveBeenCalled();
    expect(calls).toHaveLength(1);
  });

  it('retries a GET on 503 but never a POST (it may have been applied)', async () => {
    const down = () => json(503, apiError('STORAGE_UNAVAILABLE', 'Storage is temporarily unavailable; try again'), { 'Retry-After': '1' });
    const get = fakeFetch(down, json(200, {}));
    await expect(client(get.impl).api.get('/tasks')).resolves.toEqual({});
    const post = fakeFetch(down);
    await expect(client(post.impl).api.post('/tasks', {})).rejects.toMatchObject({ status: 503 });
    expect(post.calls).toHaveLength(1);
  });

  it('parses both Retry-After forms', () => {
    expect(retryAfterSeconds('5')).toBe(5);
    expect(retryAfterSeconds(new Date(10_000).toUTCString(), 0)).toBe(10);
    expect(retryAfterSeconds(null)).toBeNull();
    expect(retryAfterSeconds('soon')).toBeNull();
  });
});

describe('helpers', () => {
  it('listAll follows nextToken', async () => {
    const { impl, calls } = fakeFetch(json(200, { items: [1, 2], nextToken: 't2' }), json(200, { items: [3], nextToken: null }));
    await expect(listAll(client(impl).api, '/tasks', { status: 'todo' })).resolves.toEqual([1, 2, 3]);
    expect(calls[1].url).toContain('nextToken=t2');
    expect(calls[1].url).toContain('limit=100');
  });

  it('SessionTokenStore keeps both tokens for this tab, the access token until just before it expires', () => {
    const backing = new Map<string, string>();
    const storage = {
      getItem: (k: string) => backing.get(k) ?? null,
      setItem: (k: string, v: string) => void backing.set(k, v),
      removeItem: (k: string) => void backing.delete(k),
    };
    let now = 1_000_000;
    const store = new SessionTokenStore(storage, () => now);
    store.save({ accessToken: 'a', refreshToken: 'r', expiresIn: 900 });
    const reloaded = new SessionTokenStore(storage, () => now);
    expect([reloaded.accessToken, reloaded.refreshToken]).toEqual(['a', 'r']);
    now += 871_000; // 29 s before expiry: a refresh is due, the stale token is not sent
    expect(reloaded.accessToken).toBeNull();
    expect(reloaded.refreshToken).toBe('r');
    store.clear();
    expect(backing.size).toBe(0);
  });
});
