// Playwright global setup: one request to every function the suite reaches, before any test. On MiniStack each
// function's first invocation starts its worker (seen at 5-15 s on a busy 2-core machine); paying that here keeps
// the tests' own timeouts about the app, not about cold starts. Workers stay warm for LAMBDA_WARM_TTL_SECONDS.
import { request } from '@playwright/test';

export default async function warmUp(): Promise<void> {
  const api = (process.env.API_BASE_URL ?? '').replace(/\/+$/, '');
  if (!api) return;
  const started = Date.now();
  const http = await request.newContext({ timeout: 120_000 });
  const email = `warm-up-${Date.now().toString(36)}@example.com`;
  const password = 'warm up password 1';
  await http.post(`${api}/auth/register`, { data: { name: 'Warm up', email, password } });
  const login = await (await http.post(`${api}/auth/login`, { data: { email, password } })).json();
  const headers = { Authorization: `Bearer ${login.accessToken}` };
  const origin = process.env.WEB_URL ? new URL(process.env.WEB_URL).origin : 'http://localhost';
  await http.fetch(`${api}/tasks`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'GET' } });
  const task = await (await http.post(`${api}/tasks`, { headers, data: { title: 'warm up' } })).json();
  const project = await (await http.post(`${api}/projects`, { headers, data: { name: 'warm up' } })).json();
  const calls: Array<[string, string, unknown?]> = [
    ['GET', '/tasks?limit=100'],
    ['GET', `/tasks/${task.id}`],
    ['PATCH', `/tasks/${task.id}`, { version: task.version, status: 'done' }],
    ['GET', `/tasks/${task.id}/comments?limit=100`],
    ['POST', `/tasks/${task.id}/comments`, { body: 'warm up' }],
    ['PATCH', `/tasks/${task.id}/comments/none`, { body: 'warm up', version: 1 }],
    ['DELETE', `/tasks/${task.id}/comments/none`],
    ['GET', `/projects/${project.id}/activity?limit=50`],
    ['GET', '/projects?limit=100'],
    ['GET', `/projects/${project.id}/members?limit=100`],
    ['POST', `/projects/${project.id}/invitations`, { email: `nobody-${email}`, role: 'member' }],
    ['GET', '/invitations?limit=100'],
    ['POST', '/invitations/none/accept'],
    ['GET', '/notifications/unread-count'],
    ['GET', '/notifications?limit=20'],
    ['GET', '/activity?limit=50'],
    ['POST', '/tasks/ingest', { tasks: [{ id: `warm-${Date.now()}`, title: 'warm up ingest' }] }],
    ['POST', '/auth/refresh', { refreshToken: login.refreshToken }],
  ];
  // Three at a time: a cold start is mostly waiting on imports, and two cores take three of them faster than one.
  const queue = [...calls];
  const lane = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [method, path, data] = next;
      await http.fetch(`${api}${path}`, { method, headers, data }).catch(() => undefined);
    }
  };
  await Promise.all([lane(), lane(), lane()]);
  await http.post(`${api}/auth/logout`, { headers }).catch(() => undefined);
  await http.dispose();
  console.log(`warm-up: ${calls.length + 6} functions called in ${Math.round((Date.now() - started) / 1000)} s`);
}
