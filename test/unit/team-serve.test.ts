/**
 * `serve --team` over real HTTP on a real project: every contract method as each role and as a
 * stranger (allowed: 400 for an input no method accepts; refused: 403 or 401), media by role,
 * sign-in and sign-out with the session cookie, a disabled user's socket and session ending at
 * once, rate-limited sign-ins, and the audit trail of what was done.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  eventNames,
  methodNames,
  type EventName,
  type WorkerStatus,
} from '../../src/shared/contract';
import { createService, type Service } from '../../src/core/service';
import { createUser, type NewUserSecrets } from '../../src/core/team/users';
import { methodRoles } from '../../src/core/team/permissions';
import { readerEventRules } from '../../src/core/team/visibility';
import type { Caller } from '../../src/core/team/caller';
import type { Role } from '../../src/shared/team-schemas';
import { startServer, type RunningServer } from '../../src/server/server';
import { sessionCookieName, teamGate } from '../../src/server/team-auth';
import { encodeGray8 } from '../../src/core/project/mask-png';
import { projectWithImages, rectMask } from './project-fixtures';

let service: Service;
let server: RunningServer;
let imageId: number;
let maskId: number;
const users = {} as Record<Role | 'gone', NewUserSecrets>;
const roles: Role[] = ['reader', 'adjudicator', 'researcher', 'admin'];
let pngBase64: string;

beforeAll(async () => {
  const project = await projectWithImages([
    { name: 'a.png', split: 'train', gt: rectMask(32, 24, 2, 2, 9, 9) },
  ]);
  imageId = project.ids[0];
  for (const role of roles) users[role] = await createUser(project.store.db, `${role}1`, role);
  users.gone = await createUser(project.store.db, 'gone', 'admin');
  maskId = (project.store.db.prepare('SELECT id FROM mask_revisions').get() as { id: number }).id;
  pngBase64 = (await encodeGray8(rectMask(32, 24, 4, 4, 12, 12), 32, 24)).toString('base64');
  project.store.close();
  service = createService({ transport: 'http', projectDir: project.dir });
  await service.invoke('users.disable', { name: 'gone' });
  server = await startServer({
    service,
    port: 0,
    staticDir: null,
    token: 'f'.repeat(48),
    team: teamGate({ service, ownerToken: 'f'.repeat(48) }),
  });
});

afterAll(async () => {
  await server.close();
  service.close();
});

const api = (method: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.url}api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
const as = (role: Role | 'gone') => ({ 'x-qataseg-token': users[role].token });

async function signIn(name: string, password: string): Promise<Response> {
  return fetch(`${server.url}login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ name, password }).toString(),
    redirect: 'manual',
  });
}

function sessionCookie(response: Response): string {
  const header = response.headers.get('set-cookie') ?? '';
  return header.split(';')[0];
}

describe('serve --team', () => {
  it('has a role entry for every method of the contract', () => {
    expect(methodNames.filter((name) => !(name in methodRoles))).toEqual([]);
  });

  it('walks every contract method as each role and as strangers', async () => {
    const outcomes: string[] = [];
    const expected: string[] = [];
    for (const method of methodNames) {
      // No method takes a bare string: a 400 is an input that passed authorization.
      for (const role of roles) {
        const status = (await api(method, 'not-an-input', as(role))).status;
        outcomes.push(`${method} ${role} ${status}`);
        expected.push(`${method} ${role} ${methodRoles[method].includes(role) ? 400 : 403}`);
      }
      const strangers: Array<[string, Record<string, string>]> = [
        ['no-credentials', {}],
        ['bad-token', { 'x-qataseg-token': 'not-a-token' }],
        ['disabled', as('gone')],
        ['cookie-without-header', { cookie: `${sessionCookieName(server.port)}=x` }],
      ];
      for (const [who, headers] of strangers) {
        outcomes.push(`${method} ${who} ${(await api(method, 'not-an-input', headers)).status}`);
        expected.push(`${method} ${who} 401`);
      }
    }
    expect(outcomes).toEqual(expected);
    // The project folder's token is the owner's: everything.
    expect((await api('users.list', {}, { 'x-qataseg-token': 'f'.repeat(48) })).status).toBe(200);
  });

  it('serves media by role: readers get their assigned images and thumbnails, not labels', async () => {
    const media = (kind: string, id: number, role: Role | null) =>
      fetch(`${server.url}media/${kind}/${id}`, { headers: role ? as(role) : {} }).then(
        (r) => r.status,
      );
    // Not assigned to the reader yet: the blind rule hides the image itself.
    expect(await media('image', imageId, 'reader')).toBe(403);
    await service.invoke('plans.create', { blind: true });
    expect(await media('image', imageId, 'reader')).toBe(200);
    expect(await media('thumbnail', imageId, 'reader')).toBe(200);
    expect(await media('mask', maskId, 'reader')).toBe(403);
    expect(await media('mask', maskId, 'adjudicator')).toBe(200);
    expect(await media('mask', maskId, 'researcher')).toBe(200);
    expect(await media('image', imageId, null)).toBe(401);
  });

  it('has a reader rule for every event of the contract', () => {
    expect(eventNames.filter((name) => !(name in readerEventRules))).toEqual([]);
    expect(Object.keys(readerEventRules).sort()).toEqual([...eventNames].sort());
  });

  it('walks every contract event as each role: what each event socket hears', async () => {
    // The media test above put the image in reader1's queue of a blind plan.
    const reader: Caller = {
      kind: 'user',
      userId: users.reader.user.id,
      name: 'reader1',
      role: 'reader',
    };
    const otherReader: Caller = { kind: 'user', userId: 99_999, name: 'other', role: 'reader' };
    const admin: Caller = {
      kind: 'user',
      userId: users.admin.user.id,
      name: 'admin1',
      role: 'admin',
    };
    const job = {
      id: 'job-1',
      kind: 'evaluate',
      state: 'running',
      phase: 'measuring',
      done: 1,
      total: 2,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      error: null,
      detail: { dice: 0.81 },
    };
    const state = {
      projectDir: '/projects/p',
      name: 'p',
      datasetRoot: '/data/qata',
      imageCount: 1,
      labelledCount: 1,
      modelCount: 2,
      readOnly: null,
    };
    const same = 'same';
    type Heard = typeof same | null | Record<string, unknown>;
    /**
     * One case per line: the event, its payload, whose request caused it, and what a reader,
     * the adjudicator and researcher, and the admin and the owner hear ('same': the payload).
     */
    const cases: Array<{
      event: EventName;
      payload: Record<string, unknown>;
      origin: Caller | null;
      reader: Heard;
      members: Heard;
    }> = [
      {
        event: 'worker.status',
        payload: { state: 'ready', backend: 'cpu', ladder: [], lastError: null, restarts: 0 },
        origin: null,
        reader: same,
        members: same,
      },
      {
        event: 'project.changed',
        payload: state,
        origin: admin,
        members: same,
        reader: { ...state, projectDir: null, datasetRoot: null, labelledCount: 0, modelCount: 0 },
      },
      { event: 'job.updated', payload: job, origin: null, reader: null, members: same },
      {
        event: 'models.changed',
        payload: { active: 'v2' },
        origin: admin,
        reader: null,
        members: same,
      },
      // The reader's own save; another reader's save of the same image.
      {
        event: 'images.changed',
        payload: { reason: 'mask', imageIds: [imageId] },
        origin: reader,
        reader: same,
        members: same,
      },
      {
        event: 'images.changed',
        payload: { reason: 'mask', imageIds: [imageId] },
        origin: otherReader,
        reader: null,
        members: same,
      },
      // A correction and a review state by the admin: the ground truth's side, hidden in a blind plan.
      {
        event: 'images.changed',
        payload: { reason: 'mask', imageIds: [imageId] },
        origin: admin,
        reader: null,
        members: same,
      },
      {
        event: 'images.changed',
        payload: { reason: 'review', imageIds: [imageId] },
        origin: admin,
        reader: null,
        members: same,
      },
      // The model's predictions: those of images in the reader's queue (no reveal-after here).
      {
        event: 'images.changed',
        payload: { reason: 'prediction', imageIds: [imageId, 99_999] },
        origin: null,
        reader: { reason: 'prediction', imageIds: [imageId] },
        members: same,
      },
      {
        event: 'images.changed',
        payload: { reason: 'prediction', imageIds: [99_999] },
        origin: null,
        reader: null,
        members: same,
      },
      // Many images (an import, a plan created): the queue may have changed, no image named.
      {
        event: 'images.changed',
        payload: { reason: 'import' },
        origin: admin,
        reader: same,
        members: same,
      },
      {
        event: 'images.changed',
        payload: { reason: 'review' },
        origin: admin,
        reader: same,
        members: same,
      },
      // Another user's session ended: the admin's business (users.list).
      {
        event: 'team.sessionsEnded',
        payload: { userId: users.gone.user.id },
        origin: admin,
        reader: null,
        members: null,
      },
      // Last: the reader's own session ended (the host then closes the reader's socket).
      {
        event: 'team.sessionsEnded',
        payload: { userId: users.reader.user.id },
        origin: admin,
        reader: same,
        members: null,
      },
    ];
    expect(eventNames.filter((name) => !cases.some((c) => c.event === name))).toEqual([]);

    const listeners = new Map<string, { socket: WebSocket; heard: unknown[] }>();
    const who: Array<[string, Record<string, string>]> = [
      ...roles.map((role): [string, Record<string, string>] => [role, as(role)]),
      ['owner', { 'x-qataseg-token': 'f'.repeat(48) }],
    ];
    for (const [name, headers] of who) {
      const socket = new WebSocket(`${server.url.replace('http', 'ws')}events`, { headers });
      const heard: unknown[] = [];
      socket.on('message', (data: Buffer) => heard.push(JSON.parse(data.toString())));
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      listeners.set(name, { socket, heard });
    }
    const outcomes: string[] = [];
    const expected: string[] = [];
    for (const [index, c] of cases.entries()) {
      for (const l of listeners.values()) l.heard.length = 0;
      service.emit(c.event, c.payload as never, c.origin);
      // A marker every role hears: what was sent before it has arrived (or the socket closed).
      const marker: WorkerStatus = {
        state: 'stopped',
        backend: null,
        ladder: [],
        lastError: null,
        restarts: 1000 + index,
      };
      const markerText = JSON.stringify({ event: 'worker.status', payload: marker });
      service.emit('worker.status', marker);
      const heardMarker = (l: { socket: WebSocket; heard: unknown[] }) =>
        l.socket.readyState === WebSocket.CLOSED ||
        l.heard.some((h) => JSON.stringify(h) === markerText);
      for (let i = 0; i < 300 && ![...listeners.values()].every(heardMarker); i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      for (const [name, l] of listeners) {
        const news = l.heard.map((h) => JSON.stringify(h)).filter((h) => h !== markerText);
        const got = news.length ? news.join(' ') : 'nothing';
        outcomes.push(`${index} ${c.event} ${name}: ${got}`);
        const rule =
          name === 'reader' ? c.reader : name === 'owner' || name === 'admin' ? same : c.members;
        const payload = rule === same ? c.payload : rule;
        expected.push(
          `${index} ${c.event} ${name}: ${payload === null ? 'nothing' : JSON.stringify({ event: c.event, payload })}`,
        );
      }
    }
    expect(outcomes).toEqual(expected);
    for (const l of listeners.values()) l.socket.close();
  });

  it('signs in with a cookie, needs the header for API calls, and signs out', async () => {
    const page = await fetch(server.url, { redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login');
    const login = await fetch(`${server.url}login`);
    expect(login.status).toBe(200);
    expect(await login.text()).toContain('name="password"');

    const wrong = await signIn('reader1', 'wrong');
    expect(wrong.status).toBe(401);
    const response = await signIn('reader1', users.reader.password);
    expect(response.status).toBe(303);
    const setCookie = response.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).not.toMatch(/Secure/);
    const cookie = sessionCookie(response);
    const me = await api('auth.me', {}, { cookie, 'x-qataseg-token': '' });
    expect((await me.json()) as unknown).toMatchObject({
      user: { name: 'reader1', role: 'reader' },
    });
    // A cross-site form post carries the cookie but cannot set the header.
    expect((await api('auth.me', {}, { cookie })).status).toBe(401);
    const out = await fetch(`${server.url}logout`, {
      method: 'POST',
      headers: { cookie },
      redirect: 'manual',
    });
    expect(out.status).toBe(303);
    expect((await api('auth.me', {}, { cookie, 'x-qataseg-token': '' })).status).toBe(401);
  });

  it("ends a disabled user's socket and session at once; reset gives new secrets", async () => {
    const victim = await service.invoke('users.add', { name: 'temp', role: 'reader' });
    const cookie = sessionCookie(await signIn('temp', victim.password));
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}events`, {
      headers: { cookie },
    });
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    const disabled = await api('users.disable', { name: 'temp' }, as('admin'));
    expect(disabled.status).toBe(200);
    expect(await closed).toBe(1008);
    expect((await api('auth.me', {}, { cookie, 'x-qataseg-token': '' })).status).toBe(401);
    expect((await api('auth.me', {}, { 'x-qataseg-token': victim.token })).status).toBe(401);
    expect((await signIn('temp', victim.password)).status).toBe(401);
    // A socket of a stranger is refused.
    const refused = new WebSocket(`${server.url.replace('http', 'ws')}events`, {
      headers: { cookie },
    });
    const status = await new Promise<number>((resolve) =>
      refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
    );
    expect(status).toBe(401);

    const reset = (await (await api('users.reset', { name: 'temp' }, as('admin'))).json()) as {
      password: string;
      token: string;
    };
    expect((await api('auth.me', {}, { 'x-qataseg-token': reset.token })).status).toBe(200);
    expect((await signIn('temp', victim.password)).status).toBe(401);
    expect((await signIn('temp', reset.password)).status).toBe(303);
  });

  it('limits failed sign-ins per name and per address with 429 and Retry-After', async () => {
    // A server of its own: the failures of the tests above count against this address.
    const limited = await startServer({
      service,
      port: 0,
      staticDir: null,
      team: teamGate({ service, limits: { perName: 3, perAddress: 5 } }),
    });
    const attempt = (name: string, password: string) =>
      fetch(`${limited.url}login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ name, password }).toString(),
        redirect: 'manual',
      });
    try {
      for (let i = 0; i < 3; i++) expect((await attempt('researcher1', 'nope')).status).toBe(401);
      const refused = await attempt('researcher1', users.researcher.password);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await refused.text()).toMatch(/Try again in/);
      // Another name still signs in, until this address has failed 5 times.
      expect((await attempt('admin1', users.admin.password)).status).toBe(303);
      for (let i = 0; i < 2; i++) expect((await attempt('adjudicator1', 'nope')).status).toBe(401);
      expect((await attempt('admin1', users.admin.password)).status).toBe(429);
    } finally {
      await limited.close();
    }
  });

  it('records who saved, reviewed and changed users in the audit trail', async () => {
    const save = await api('masks.save', { imageId, png: pngBase64 }, as('adjudicator'));
    expect(save.status).toBe(200);
    const review = await api('review.set', { imageId, state: 'accepted' }, as('researcher'));
    expect(review.status).toBe(200);
    const trail = (await (await api('audit.list', {}, as('admin'))).json()) as Array<{
      userName: string;
      action: string;
      imageId: number | null;
    }>;
    expect(trail[0]).toMatchObject({ userName: 'researcher1', action: 'review.set', imageId });
    expect(trail[1]).toMatchObject({ userName: 'adjudicator1', action: 'masks.save', imageId });
    expect(trail.some((e) => e.action === 'users.disable' && e.userName === 'admin1')).toBe(true);
    // Refused and failed calls leave no trace.
    expect(trail.some((e) => e.userName === 'reader1')).toBe(false);
    const mine = (await (
      await api('audit.list', { user: 'adjudicator1' }, as('admin'))
    ).json()) as unknown[];
    expect(mine).toHaveLength(1);
    // The password and token of users.add/reset are never in the trail.
    const text = JSON.stringify(trail);
    for (const secrets of Object.values(users)) expect(text).not.toContain(secrets.password);
  });
});
