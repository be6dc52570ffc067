/**
 * The blind rule on the event socket of `serve --team` (issue 23): over real HTTP and real
 * WebSockets on a real project, two readers of a blind plan, an adjudicator and the owner listen
 * while reader ana saves a label and the owner runs an export job. Bo, the other reader, hears
 * nothing of ana's save nor of the job; ana hears her own save (her worklist refreshes); the
 * adjudicator and the owner hear everything. A disabled reader hears their own session's end, and
 * nobody else among the readers does.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createService, type Service } from '../../src/core/service';
import { createUser, type NewUserSecrets } from '../../src/core/team/users';
import { encodeGray8 } from '../../src/core/project/mask-png';
import { startServer, type RunningServer } from '../../src/server/server';
import { teamGate } from '../../src/server/team-auth';
import { projectWithImages, rectMask, tempDir } from './project-fixtures';

const OWNER_TOKEN = 'e'.repeat(48);
let service: Service;
let server: RunningServer;
let ids: number[];
const users = {} as Record<'ana' | 'bo' | 'adj', NewUserSecrets>;

interface Heard {
  event: string;
  payload: Record<string, unknown>;
}

/** A socket of the event stream and everything it has heard. */
interface Listener {
  socket: WebSocket;
  heard: Heard[];
  closed: Promise<number>;
}

async function listen(token: string): Promise<Listener> {
  const socket = new WebSocket(`${server.url.replace('http', 'ws')}events`, {
    headers: { 'x-qataseg-token': token },
  });
  const heard: Heard[] = [];
  socket.on('message', (data: Buffer) => heard.push(JSON.parse(data.toString()) as Heard));
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return { socket, heard, closed };
}

let mark = 0;
/**
 * Sends a marker every socket hears (the worker's status is every role's to read) and waits until
 * each open socket has heard it: what was sent to a socket before it has then arrived.
 */
async function settle(listeners: Listener[]): Promise<void> {
  mark += 1;
  const restarts = 1000 + mark;
  service.emit('worker.status', {
    state: 'stopped',
    backend: null,
    ladder: [],
    lastError: null,
    restarts,
  });
  const open = listeners.filter((l) => l.socket.readyState === WebSocket.OPEN);
  for (let i = 0; i < 200; i += 1) {
    const arrived = open.every((l) =>
      l.heard.some((h) => h.event === 'worker.status' && h.payload.restarts === restarts),
    );
    if (arrived) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('a socket never heard the marker');
}

/** What a socket heard, without the markers. */
const news = (l: Listener) => l.heard.filter((h) => h.event !== 'worker.status');

const api = async (method: string, body: unknown, token: string) => {
  const response = await fetch(`${server.url}api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-qataseg-token': token },
    body: JSON.stringify(body),
  });
  expect(response.status, `${method}: ${await response.clone().text()}`).toBe(200);
  return (await response.json()) as Record<string, unknown>;
};

beforeAll(async () => {
  const project = await projectWithImages([
    { name: 'a.png', split: 'test', gt: rectMask(32, 24, 2, 2, 9, 9) },
    { name: 'b.png', split: 'test', gt: rectMask(32, 24, 4, 4, 12, 12) },
  ]);
  ids = project.ids;
  users.ana = await createUser(project.store.db, 'ana', 'reader');
  users.bo = await createUser(project.store.db, 'bo', 'reader');
  users.adj = await createUser(project.store.db, 'adj', 'adjudicator');
  project.store.close();
  service = createService({ transport: 'http', projectDir: project.dir });
  await service.invoke('plans.create', { blind: true });
  server = await startServer({
    service,
    port: 0,
    staticDir: null,
    token: OWNER_TOKEN,
    team: teamGate({ service, ownerToken: OWNER_TOKEN }),
  });
});

afterAll(async () => {
  await server.close();
  service.close();
});

describe('the event socket under the blind rule', () => {
  it("tells a reader of their own saves only, never of another reader's or the team's jobs", async () => {
    const ana = await listen(users.ana.token);
    const bo = await listen(users.bo.token);
    const adj = await listen(users.adj.token);
    const owner = await listen(OWNER_TOKEN);
    const all = [ana, bo, adj, owner];

    const png = (await encodeGray8(rectMask(32, 24, 3, 3, 11, 13), 32, 24)).toString('base64');
    await api('masks.save', { imageId: ids[0], png }, users.ana.token);
    await settle(all);
    const anaSaved = { event: 'images.changed', payload: { reason: 'mask', imageIds: [ids[0]] } };
    // Ana's worklist refreshes; the adjudicator and the owner see every change.
    expect(news(ana)).toEqual([anaSaved]);
    expect(news(adj)).toEqual([anaSaved]);
    expect(news(owner)).toEqual([anaSaved]);
    // Bo shares the image in a blind plan: not a word of ana's save.
    expect(news(bo)).toEqual([]);

    // The owner's export job: the readers' jobs.list is empty, and so is their socket.
    const out = path.join(tempDir('events-export'), 'out');
    const job = await api('export.start', { out }, OWNER_TOKEN);
    for (let i = 0; i < 500; i += 1) {
      const status = (
        (await api('jobs.list', {}, OWNER_TOKEN)) as unknown as { id: string; state: string }[]
      ).find((j) => j.id === job.id)?.state;
      if (status !== 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await settle(all);
    const jobsHeard = (l: Listener) => news(l).filter((h) => h.event === 'job.updated').length;
    expect(jobsHeard(owner)).toBeGreaterThan(0);
    expect(jobsHeard(adj)).toBe(jobsHeard(owner));
    expect(jobsHeard(ana)).toBe(0);
    expect(jobsHeard(bo)).toBe(0);

    // Bo is disabled: his own socket hears it and closes; ana hears nothing of it.
    const before = news(ana).length;
    await api('users.disable', { name: 'bo' }, OWNER_TOKEN);
    expect(await bo.closed).toBe(1008);
    await settle(all);
    expect(news(bo).filter((h) => h.event === 'team.sessionsEnded')).toEqual([
      { event: 'team.sessionsEnded', payload: { userId: users.bo.user.id } },
    ]);
    expect(news(ana).slice(before)).toEqual([]);
    for (const l of all) l.socket.close();
  });
});
