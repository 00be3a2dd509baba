import AxeBuilder from '@axe-core/playwright';
import { expect, request as playwrightRequest, test, type APIRequestContext, type Browser, type Page } from '@playwright/test';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

// The browser suite (issue 14): two people in real Chromium against the app on S3 and the deployed API.
// WEB_URL is the app's index.html on the stack's bucket, API_BASE_URL the API (infra/web-test.sh sets both).

const WEB_URL = process.env.WEB_URL ?? '';
const API = (process.env.API_BASE_URL ?? '').replace(/\/+$/, '');
const SHOTS = process.env.SCREENSHOT_DIR ?? 'test-results/screens';
const PASSWORD = 'correct horse battery staple';
const run = Date.now().toString(36);

test.describe.configure({ mode: 'serial' });

mkdirSync(SHOTS, { recursive: true });

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

/** Zero serious or critical axe-core violations on the screen as it is now. */
async function expectAccessible(page: Page, screen: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const blocking = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const summary = blocking.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  test.info().annotations.push({ type: 'axe', description: `${screen}: ${results.violations.length} violations, ${blocking.length} serious/critical` });
  // One JSON line per screen (CI artifact): every violation's id and impact, the minor ones included.
  const line = { screen, passes: results.passes.length, violations: results.violations.map((v) => ({ id: v.id, impact: v.impact })) };
  appendFileSync(join(SHOTS, '..', 'axe.jsonl'), `${JSON.stringify(line)}\n`);
  expect(summary, `axe on ${screen}`).toEqual([]);
}

interface Person {
  name: string;
  email: string;
  page: Page;
  tokens: string[];
}

async function open(browser: Browser, name: string): Promise<Person> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const person: Person = { name, email: `${name.toLowerCase()}-${run}@example.com`, page, tokens: [] };
  // The access tokens the app sends: the logout step proves the last one is refused afterwards.
  page.on('request', (req) => {
    const auth = req.headers().authorization;
    if (auth?.startsWith('Bearer ')) person.tokens.push(auth.slice(7));
  });
  page.on('pageerror', (error) => console.error(`[${name}] page error: ${error.message}`));
  await page.goto(WEB_URL);
  return person;
}

async function register(person: Person, screenshots = false): Promise<void> {
  const { page } = person;
  await expect(page.getByRole('heading', { name: 'Log in', exact: true })).toBeVisible();
  if (screenshots) {
    await shoot(page, '01-login');
    await expectAccessible(page, 'login');
  }
  await page.getByRole('link', { name: 'Create an account' }).click();
  await expect(page.getByRole('heading', { name: 'Create your account', exact: true })).toBeVisible();
  await page.getByLabel('Name').fill(person.name);
  await page.getByLabel('Email').fill(person.email);
  await page.getByLabel('Password').fill(PASSWORD);
  if (screenshots) {
    await shoot(page, '02-register');
    await expectAccessible(page, 'register');
  }
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('heading', { name: 'Board', exact: true })).toBeVisible();
}

async function apiAs(email: string): Promise<{ api: APIRequestContext; token: string }> {
  const api = await playwrightRequest.newContext();
  const login = await api.post(`${API}/auth/login`, { data: { email, password: PASSWORD } });
  expect(login.status()).toBe(200);
  return { api, token: (await login.json()).accessToken as string };
}

async function unread(page: Page): Promise<number> {
  return Number(await page.getByTestId('unread-count').innerText());
}

let alice: Person;
let bob: Person;
let projectName: string;
let sharedTaskTitle = '';

test('two people register, log in and see their empty boards', async ({ browser }) => {
  expect(WEB_URL, 'WEB_URL').not.toBe('');
  expect(API, 'API_BASE_URL').not.toBe('');
  alice = await open(browser, 'Alice');
  bob = await open(browser, 'Bob');
  await register(alice, true);
  await register(bob);
  await expect(alice.page.getByText('No tasks yet').first()).toBeVisible();
  await shoot(alice.page, '03-board-empty');
  await expectAccessible(alice.page, 'board (empty)');
});

test('they share a project: an invitation, then its acceptance', async () => {
  projectName = `Launch ${run}`;
  const page = alice.page;
  await page.getByRole('link', { name: 'Projects' }).click();
  await expect(page.getByRole('heading', { name: 'Projects', exact: true })).toBeVisible();
  await page.getByLabel('Project name').fill(projectName);
  await page.getByLabel('Description').fill('Everything for the launch');
  await page.getByRole('button', { name: 'Create project' }).click();
  await expect(page.getByRole('heading', { name: `Members of ${projectName}` })).toBeVisible();
  await page.getByLabel('Email to invite').fill(bob.email);
  await page.getByRole('button', { name: 'Send invitation' }).click();
  await expect(page.getByText(`Invited ${bob.email} as member.`)).toBeVisible();
  await shoot(page, '04-projects');
  await expectAccessible(page, 'projects');

  await bob.page.getByRole('link', { name: 'Projects' }).click();
  await bob.page.getByRole('button', { name: `Accept invitation to ${projectName}` }).click();
  await expect(bob.page.getByText(`You joined “${projectName}”.`)).toBeVisible();
  await expect(bob.page.getByRole('button', { name: `Accept invitation to ${projectName}` })).toHaveCount(0);
  await expect(bob.page.getByRole('button', { name: projectName, exact: true })).toBeVisible();

  // Alice sees Bob among the members.
  await page.reload();
  await page.getByRole('button', { name: projectName, exact: true }).click();
  await expect(page.getByRole('cell', { name: bob.email, exact: true })).toBeVisible();
});

test('one creates and assigns a task; the other sees it and its notification arrives without reloading', async () => {
  const page = alice.page;
  await bob.page.getByRole('link', { name: 'Board' }).click();
  await bob.page.getByLabel('Board of').selectOption({ label: `Project: ${projectName}` });
  await expect(bob.page.getByText('No tasks yet').first()).toBeVisible();
  const before = await unread(bob.page);
  await page.getByRole('link', { name: 'Board' }).click();
  await page.getByLabel('Board of').selectOption({ label: `Project: ${projectName}` });
  sharedTaskTitle = `Write the press release ${run}`;

  await page.getByRole('button', { name: 'New task' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Title').fill(sharedTaskTitle);
  await dialog.getByLabel('Priority').selectOption('high');
  await dialog.getByLabel('Tags (comma separated)').fill('launch, press');
  await dialog.getByLabel('Assignee').selectOption({ label: bob.email });
  await shoot(page, '05-task-dialog');
  await expectAccessible(page, 'task dialog');
  await dialog.getByRole('button', { name: 'Create task' }).click();
  const aliceCard = page.locator('li.task-card', { hasText: sharedTaskTitle });
  await expect(aliceCard).toContainText(`→ ${bob.email}`);

  // Bob's bell and board follow live (task.assigned over the WebSocket, then the board reloads), no reload.
  await expect.poll(() => unread(bob.page), { timeout: 60_000, message: 'task.assigned arrives over the WebSocket' }).toBeGreaterThan(before);
  await expect(bob.page.getByRole('button', { name: sharedTaskTitle })).toBeVisible({ timeout: 15_000 });
  await bob.page.getByRole('button', { name: /^Notifications, / }).click();
  const bell = bob.page.getByRole('region', { name: 'Notifications' });
  await expect(bell.getByText(sharedTaskTitle).first()).toBeVisible();
  await expect(bell.getByText(/assigned/i).first()).toBeVisible();
  await shoot(bob.page, '06-notifications');
  await expectAccessible(bob.page, 'notifications');
  await bob.page.getByRole('button', { name: /^Notifications, / }).click();
});

test('the other moves it to done with the keyboard, and comments', async () => {
  const page = bob.page;
  const card = page.locator('li.task-card', { hasText: sharedTaskTitle });
  const move = card.getByLabel(`Move “${sharedTaskTitle}” to`);
  await move.focus();
  await page.keyboard.press('End'); // the keyboard path: a labelled select on every card, no drag needed
  await move.selectOption('done');
  await expect(page.locator('[data-status="done"]').getByRole('button', { name: sharedTaskTitle })).toBeVisible();
  await expect(page.getByText(`Moved “${sharedTaskTitle}” to Done.`)).toBeVisible();
  await shoot(page, '07-board');
  await expectAccessible(page, 'board');

  await page.getByRole('button', { name: sharedTaskTitle }).click();
  const dialog = page.getByRole('dialog');
  const comments = dialog.getByRole('region', { name: 'Comments' }).or(dialog.locator('section.comments'));
  await expect(comments.getByText('No comments yet')).toBeVisible();
  const aliceBefore = await unread(alice.page);
  await comments.getByLabel('Add a comment').fill('Done, sent to the editors.');
  await comments.getByRole('button', { name: 'Post comment' }).click();
  await expect(comments.getByText('Done, sent to the editors.')).toBeVisible();
  await comments.getByRole('button', { name: 'Edit comment' }).click();
  await comments.getByLabel('Edit your comment').fill('Done, sent to the editors and the printer.');
  await comments.getByRole('button', { name: 'Save comment' }).click();
  await expect(comments.getByText('Done, sent to the editors and the printer.')).toBeVisible();
  await expect(comments.getByText(/edited/)).toBeVisible();
  await expectAccessible(page, 'comments');
  // Alice created the task, so she watches it: comment.added reaches her bell live.
  await expect.poll(() => unread(alice.page), { timeout: 60_000, message: 'comment.added reaches the creator' }).toBeGreaterThan(aliceBefore);
  await alice.page.getByRole('button', { name: /^Notifications, / }).click();
  await expect(alice.page.getByRole('region', { name: 'Notifications' }).getByText(/comment/i).first()).toBeVisible();
  await alice.page.getByRole('button', { name: /^Notifications, / }).click();
  await shoot(page, '08-comments');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
});

test('a stale edit shows the conflict and reloads the task', async () => {
  const page = bob.page;
  await page.getByRole('button', { name: sharedTaskTitle }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Title').fill(`${sharedTaskTitle} (final)`);

  // Meanwhile the task changes elsewhere (another session of the same person, straight through the API).
  const { api, token } = await apiAs(bob.email);
  const headers = { Authorization: `Bearer ${token}` };
  const id = await page.locator('li.task-card', { hasText: sharedTaskTitle }).getAttribute('data-task-id');
  const current = await (await api.get(`${API}/tasks/${id}`, { headers })).json();
  const changed = await api.patch(`${API}/tasks/${id}`, { headers, data: { version: current.version, title: `${sharedTaskTitle} (edited elsewhere)` } });
  expect(changed.status()).toBe(200);

  await dialog.getByRole('button', { name: 'Save changes' }).click();
  await expect(dialog.getByRole('alert')).toContainText('This task was changed elsewhere');
  await expect(dialog.getByRole('alert')).toContainText('(edited elsewhere)');
  await shoot(page, '09-conflict');
  await expectAccessible(page, 'conflict');
  await dialog.getByRole('button', { name: 'Save changes' }).click(); // saving again applies the user's edit
  await expect(page.getByRole('button', { name: `${sharedTaskTitle} (final)` })).toBeVisible();
});

test('activity feed and bulk import with a progress bar', async () => {
  const page = alice.page;
  await page.getByRole('link', { name: 'Activity' }).click();
  await expect(page.getByRole('heading', { name: 'Activity', exact: true })).toBeVisible();
  await expect(page.locator('ol.feed li').first()).toBeVisible();
  // The project's feed: what both did on the shared board, newest first.
  await page.getByLabel('Feed of').selectOption({ label: `Project: ${projectName}` });
  const feed = page.locator('ol.feed');
  await expect(feed.getByText(/comment/i).first()).toBeVisible({ timeout: 30_000 });
  await expect(feed.getByText(sharedTaskTitle).first()).toBeVisible();
  await expect(feed.getByText(/joined|member/i).first()).toBeVisible();
  await shoot(page, '10-activity');
  await expectAccessible(page, 'activity (project)');

  await page.getByRole('link', { name: 'Import' }).click();
  const titles = ['Book the venue', 'Draft the agenda', 'Order the badges', 'Brief the speakers', 'Send the invitations'];
  const statuses = ['todo', 'in_progress', 'done', 'todo', 'in_progress'];
  const rows = titles.map((title, i) => `${title} ${run},${statuses[i]},${['low', 'medium', 'high'][i % 3]},event;launch,2031-0${i + 1}-15`);
  const csv = ['title,status,priority,tags,dueDate', ...rows].join('\n');
  await page.getByLabel('Tasks to import').fill(csv);
  await page.getByRole('button', { name: 'Import tasks' }).click();
  await expect(page.locator('#import-progress')).toBeVisible();
  await expect(page.getByText('All 5 tasks imported.').first()).toBeVisible({ timeout: 90_000 });
  await shoot(page, '11-import');
  await expectAccessible(page, 'import');
  await page.getByRole('link', { name: 'Board' }).click();
  await expect(page.getByRole('button', { name: `Send the invitations ${run}` })).toBeVisible();
  await shoot(page, '12-board');
});

test('filters ask the API; an unsupported combination shows its message', async () => {
  const page = alice.page;
  const board = page.locator('.columns');
  const filters = page.getByRole('group', { name: 'Filters' });
  await expect(board.getByRole('button', { name: `Order the badges ${run}` })).toBeVisible();
  await filters.getByRole('combobox', { name: 'Priority', exact: true }).selectOption('high');
  await expect(board.getByRole('button', { name: `Book the venue ${run}` })).toBeHidden();
  await expect(board.getByRole('button', { name: `Order the badges ${run}` })).toBeVisible();
  await filters.getByRole('button', { name: 'Clear filters' }).click();
  // Inclusive dates on the form, strict bounds on the wire: only the task due that very day.
  await filters.getByLabel('Due from').fill('2031-03-15');
  await filters.getByLabel('Due until').fill('2031-03-15');
  await expect(board.getByRole('button', { name: `Draft the agenda ${run}` })).toBeHidden();
  await expect(board.getByRole('button', { name: `Order the badges ${run}` })).toBeVisible();
  await filters.getByRole('button', { name: 'Clear filters' }).click();
  await filters.getByLabel('Tag').fill('event');
  await expect(board.getByRole('button', { name: `Send the invitations ${run}` })).toBeVisible();
  // Two filters other than assignee + status: no index serves them, and the API says which combinations it has.
  await filters.getByRole('combobox', { name: 'Priority', exact: true }).selectOption('low');
  await expect(page.getByRole('alert')).toContainText('This combination of filters is not supported');
  await filters.getByRole('button', { name: 'Clear filters' }).click();
  await expect(page.getByRole('alert')).toBeHidden();

  // The project board: assignee + status is a supported pair.
  const { api, token } = await apiAs(alice.email);
  const headers = { Authorization: `Bearer ${token}` };
  const projects = await (await api.get(`${API}/projects`, { headers })).json();
  const projectId = projects.items.find((p: { name: string }) => p.name === projectName).id as string;
  const members = await (await api.get(`${API}/projects/${projectId}/members`, { headers })).json();
  const bobId = members.items.find((m: { email: string }) => m.email === bob.email).userId as string;
  const more: Array<[string, string, string, string | null]> = [
    ['Book the photographer', 'todo', 'medium', bobId],
    ['Review the slides', 'in_progress', 'high', null],
    ['Print the programme', 'todo', 'low', bobId],
    ['Test the live stream', 'in_progress', 'medium', bobId],
  ];
  for (const [title, status, priority, assigneeId] of more) {
    const created = await api.post(`${API}/tasks`, { headers, data: { title: `${title} ${run}`, status, priority, projectId, assigneeId, tags: ['launch'] } });
    expect(created.status()).toBe(201);
  }
  await page.getByLabel('Board of').selectOption({ label: `Project: ${projectName}` });
  await expect(board.getByRole('button', { name: `Test the live stream ${run}` })).toBeVisible();
  await shoot(page, '13-project-board');
  await filters.getByRole('combobox', { name: 'Assignee', exact: true }).selectOption({ label: bob.email });
  await filters.getByRole('combobox', { name: 'Status', exact: true }).selectOption('todo');
  await expect(board.getByRole('button', { name: `Test the live stream ${run}` })).toBeHidden();
  await expect(board.getByRole('button', { name: `Print the programme ${run}` })).toBeVisible();
  await expect(board.getByRole('button', { name: `Book the photographer ${run}` })).toBeVisible();
  await shoot(page, '14-filters');
  await expectAccessible(page, 'board (filtered)');
  await filters.getByRole('button', { name: 'Clear filters' }).click();
  await page.getByLabel('Board of').selectOption({ label: 'My personal tasks' });
});

test('every API error shows its message', async () => {
  const page = alice.page;
  await page.getByRole('button', { name: 'New task' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Title').fill('Too many tags');
  await dialog.getByLabel('Tags (comma separated)').fill(Array.from({ length: 11 }, (_, i) => `t${i}`).join(','));
  await dialog.getByRole('button', { name: 'Create task' }).click();
  await expect(dialog.getByRole('alert')).toContainText('Request is not valid');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
});

test('logout returns to login and the old token no longer works', async () => {
  const page = bob.page;
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByRole('heading', { name: 'Log in', exact: true })).toBeVisible();
  await expect(page.getByText('You have logged out.')).toBeVisible();
  const old = bob.tokens.at(-1);
  expect(old).toBeTruthy();
  const api = await playwrightRequest.newContext();
  const answer = await api.get(`${API}/tasks`, { headers: { Authorization: `Bearer ${old}` } });
  expect(answer.status()).toBe(401);
  // A reload does not sign back in: the refresh token went with the session.
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Log in', exact: true })).toBeVisible();
});

test('CORS: preflights and answers name the web origin only', async () => {
  const api = await playwrightRequest.newContext();
  const origin = new URL(WEB_URL).origin;
  const preflight = await api.fetch(`${API}/tasks`, {
    method: 'OPTIONS',
    headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' },
  });
  expect(preflight.status()).toBe(204);
  expect(preflight.headers()['access-control-allow-origin']).toBe(origin);
  expect(preflight.headers()['access-control-allow-methods']).toContain('PATCH');
  const foreign = await api.fetch(`${API}/tasks`, { method: 'OPTIONS', headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET' } });
  expect(foreign.headers()['access-control-allow-origin']).toBeUndefined();
  const refused = await api.get(`${API}/tasks`, { headers: { Origin: origin } });
  expect(refused.status()).toBe(401); // the gateway's own refusal carries CORS and security headers too
  expect(refused.headers()['access-control-allow-origin']).toBe(origin);
  expect(refused.headers()['x-content-type-options']).toBe('nosniff');
});
