/**
 * Starts the ML worker with child_process.fork (CLI, browser-mode server, tests). Running from
 * TypeScript source, the child gets tsx's loader; a built bundle is forked as it is.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { WorkerChannel, WorkerLauncher } from './worker-host';

const require = createRequire(import.meta.url);

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
    // tsx by file URL: a bare 'tsx' would be resolved from the cwd, which may be any folder.
    const execArgv = entry.endsWith('.ts')
      ? ['--import', pathToFileURL(require.resolve('tsx')).href]
      : [];
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
