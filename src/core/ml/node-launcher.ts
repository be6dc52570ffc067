/**
 * Starts the ML worker with child_process.fork (CLI, browser-mode server, tests). Running from
 * TypeScript source, the child gets tsx's loader; a built bundle is forked as it is.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { WorkerChannel, WorkerLauncher } from './worker-host';

export function defaultWorkerEntry(): string {
  const source = fileURLToPath(new URL('../../worker/index.ts', import.meta.url));
  if (existsSync(source)) return source;
  return fileURLToPath(new URL('./worker.js', import.meta.url));
}

export function nodeWorkerLauncher(
  entry = defaultWorkerEntry(),
  env: NodeJS.ProcessEnv = process.env,
): WorkerLauncher {
  return (): WorkerChannel => {
    const execArgv = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
    const child = fork(entry, [], {
      execArgv,
      env,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return {
      send: (message) => {
        if (child.connected) child.send(message);
      },
      onMessage: (listener) => child.on('message', listener),
      onExit: (listener) => child.on('exit', (code, signal) => listener(code, signal)),
      kill: (force) => {
        if (child.exitCode === null && child.signalCode === null)
          child.kill(force ? 'SIGKILL' : 'SIGTERM');
      },
    };
  };
}
