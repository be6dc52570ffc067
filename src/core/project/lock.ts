/**
 * One writer per project: a lock file in the project folder (`project.lock`) names the process
 * that has the project open for writing (pid, host, command, since, and the server's address when
 * it is `qataseg serve`). A second writer is refused with that name; a lock left by a process that
 * is gone (same host, pid dead or the machine rebooted since) is taken over.
 *
 * Created with link(2) from a complete temporary file, so a reader never sees a half-written lock
 * and the creation is atomic on local and network filesystems alike; where links are not
 * supported (FAT, some SMB servers) an exclusive create is used instead.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

export const LOCK_FILE = 'project.lock';

export const lockHolderSchema = z.object({
  pid: z.number().int().positive(),
  host: z.string(),
  /** What holds it, e.g. `qataseg serve --project p` or the desktop app. */
  command: z.string(),
  since: z.string(),
  /** Linux boot id: a lock from before a reboot is stale whatever its pid. */
  boot: z.string().nullable().optional(),
  /** Set by `qataseg serve`: where the CLI can reach the holder. */
  url: z.string().nullable().optional(),
});
export type LockHolder = z.infer<typeof lockHolderSchema>;

/** The project is open for writing elsewhere; nothing was changed. */
export class ProjectLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly holder: LockHolder,
  ) {
    super(`${dir} is open for writing by ${describeHolder(holder)}. ${lockedHint(dir, holder)}`);
    this.name = 'ProjectLockedError';
  }

  /** The holder is on this machine (so its pid and address mean something here). */
  get local(): boolean {
    return this.holder.host === os.hostname();
  }
}

export function describeHolder(holder: LockHolder): string {
  const where = holder.host === os.hostname() ? 'this machine' : `host ${holder.host}`;
  const url = holder.url ? `, serving ${holder.url}` : '';
  return `\`${holder.command}\` (pid ${holder.pid} on ${where}, since ${holder.since}${url})`;
}

function lockedHint(dir: string, holder: LockHolder): string {
  if (holder.host !== os.hostname()) {
    return `One workstation writes a project at a time. If ${holder.host} no longer has it open, delete ${path.join(dir, LOCK_FILE)}.`;
  }
  if (holder.url) return `Open ${holder.url} to work on it there, or stop that server first.`;
  return 'Wait for it to finish, or stop it first.';
}

function bootId(): string | null {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}

/** Whether a process of this machine still runs (EPERM: it does, under another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a holder is certainly gone: only decidable for a holder on this machine. */
export function holderIsGone(holder: LockHolder): boolean {
  if (holder.host !== os.hostname()) return false;
  const boot = bootId();
  if (boot && holder.boot && holder.boot !== boot) return true;
  if (holder.pid === process.pid) {
    return ![...held.values()].some((entry) => holderKey(entry.holder) === holderKey(holder));
  }
  return !processAlive(holder.pid);
}

export function readLock(dir: string): LockHolder | null {
  try {
    const parsed = lockHolderSchema.safeParse(
      JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8')),
    );
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function realPathOrResolved(dir: string): string {
  try {
    return fs.realpathSync(dir);
  } catch {
    return path.resolve(dir);
  }
}

/** Locks held by this process, by folder, with how many stores share each. */
const held = new Map<string, { holder: LockHolder; count: number }>();
const holderKey = (holder: LockHolder) => `${holder.pid}@${holder.host}@${holder.since}`;

function commandLine(): string {
  if (process.versions.electron) return 'QaTa Seg Workstation (desktop app)';
  const script = path.basename(process.argv[1] ?? process.argv0).replace(/\.m?[jt]s$/, '');
  return [script, ...process.argv.slice(2)].join(' ').slice(0, 300);
}

function writeExclusive(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(temporary, text, { flag: 'wx' });
  try {
    fs.linkSync(temporary, file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') {
      throw error;
    }
    fs.writeFileSync(file, text, { flag: 'wx' });
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

/** A lock file that cannot be parsed: being written right now, or torn by a crash long ago. */
function unreadableLockIsOld(file: string): boolean {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  return stat !== undefined && Date.now() - stat.mtimeMs > 10_000;
}

export interface ProjectLock {
  readonly holder: LockHolder;
  /** Records more about the holder (the server's address once it listens). */
  update(change: Partial<Pick<LockHolder, 'url' | 'command'>>): void;
  release(): void;
}

/**
 * Takes the project's write lock for this process (re-entrant: every open store of the folder in
 * this process shares it). Throws ProjectLockedError naming the holder when another live process
 * has it.
 */
export function acquireProjectLock(dir: string, command = commandLine()): ProjectLock {
  // One folder reached through a symlink is the same project: key the locks this process holds
  // by the real path.
  const absolute = realPathOrResolved(dir);
  const file = path.join(absolute, LOCK_FILE);
  let entry = held.get(absolute);
  if (!entry) {
    const holder: LockHolder = {
      pid: process.pid,
      host: os.hostname(),
      command,
      since: new Date().toISOString(),
      boot: bootId(),
      url: null,
    };
    for (let attempt = 0; ; attempt++) {
      try {
        writeExclusive(file, `${JSON.stringify(holder)}\n`);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 20) throw error;
      }
      const current = readLock(absolute);
      if (current === null) {
        if (!unreadableLockIsOld(file)) {
          // Half-written by an exclusive create elsewhere: look again in a moment.
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
          continue;
        }
      } else if (!holderIsGone(current)) {
        throw new ProjectLockedError(absolute, current);
      }
      // Stale: remove it unless it changed meanwhile (another process took it over first).
      const again = readLock(absolute);
      if (again === null || current === null || holderKey(again) === holderKey(current)) {
        fs.rmSync(file, { force: true });
      }
    }
    entry = { holder, count: 0 };
    held.set(absolute, entry);
  }
  entry.count += 1;
  const owned = entry;
  let released = false;
  return {
    get holder() {
      return owned.holder;
    },
    update(change) {
      owned.holder = { ...owned.holder, ...change };
      const temporary = `${file}.${process.pid}.update.tmp`;
      fs.writeFileSync(temporary, `${JSON.stringify(owned.holder)}\n`);
      fs.renameSync(temporary, file);
    },
    release() {
      if (released) return;
      released = true;
      owned.count -= 1;
      if (owned.count > 0) return;
      held.delete(absolute);
      removeIfOurs(absolute, owned.holder);
    },
  };
}

function removeIfOurs(dir: string, holder: LockHolder): void {
  const current = readLock(dir);
  if (current && current.pid === holder.pid && current.since === holder.since) {
    fs.rmSync(path.join(dir, LOCK_FILE), { force: true });
  }
}

// A process that exits without closing its stores (Ctrl-C, process.exit) leaves no lock behind.
process.on('exit', () => {
  for (const [dir, entry] of held) removeIfOurs(dir, entry.holder);
});
