/** `qataseg serve`: the workstation in a browser, over loopback HTTP + WebSocket with a token. */
import type { Command } from 'commander';
import { backendChoiceSchema } from '../../shared/contract';
import { createService } from '../../core/service';
import { rendererDir } from '../../core/environment';
import { ensureDemoProject } from '../../core/default-project';
import { prepareDemoModel } from '../../core/demo-model';
import { startServer } from '../../server/server';
import { fail, printJson } from '../output';
import { BACKEND_CHOICES } from './ml-shared';

export function register(program: Command): void {
  program
    .command('serve')
    .description('serve the workstation to a browser on this machine (token in the printed URL)')
    .option('--project <dir>', 'project folder to open (created if missing)')
    .option('--port <n>', 'port (0 picks a free one)', '8765')
    .option('--host <address>', 'address to bind; keep loopback unless you know why', '127.0.0.1')
    .option('--backend <name>', `ML backend: ${BACKEND_CHOICES}`, 'auto')
    .option(
      '--demo',
      'generate and import the demo dataset first if the project has no images, then train a small first model in the background and predict every image',
    )
    .option('--no-demo-model', 'with --demo: no first model (the dataset only)')
    .option('--json', 'print the address as one JSON line (for scripts and tests)')
    .action(
      async (options: {
        project?: string;
        port: string;
        host: string;
        backend: string;
        demo?: boolean;
        demoModel: boolean;
        json?: boolean;
      }) => {
        const port = Number(options.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          fail(`--port must be 0..65535, got ${options.port}`);
        if (options.demo) {
          if (!options.project) fail('--demo needs --project DIR');
          const generated = await ensureDemoProject(options.project, (done, total) => {
            if (!options.json && process.stderr.isTTY) {
              process.stderr.write(`\rGenerating the demo dataset: ${done}/${total ?? '?'}`);
            }
          });
          if (generated && !options.json) process.stderr.write('\nDemo dataset imported.\n');
        }
        const backend = backendChoiceSchema.parse(options.backend);
        const service = createService({
          transport: 'http',
          projectDir: options.project ?? null,
          backend,
        });
        // Start the ML worker now so the UI can show which backend the ladder chose.
        service.worker.ensureStarted().catch(() => undefined);
        const server = await startServer({
          service,
          host: options.host,
          port,
          staticDir: rendererDir(),
        });
        if (options.json) {
          printJson({
            url: server.url,
            urlWithToken: server.urlWithToken,
            token: server.token,
            port: server.port,
          });
        } else {
          process.stdout.write(
            `QaTa Seg Workstation in browser mode${options.project ? ` (project ${options.project})` : ''}\n` +
              `Open: ${server.urlWithToken}\n` +
              'Ctrl+C stops it.\n',
          );
        }
        if (options.demo && options.demoModel) {
          if (!options.json) {
            process.stdout.write(
              'Preparing the demo model in the background (progress in the page and its jobs bar).\n',
            );
          }
          prepareDemoModel(service).catch((error: unknown) => {
            process.stderr.write(`Demo model not prepared: ${String(error)}\n`);
          });
        }
        const stop = () => {
          void server.close().then(() => {
            service.close();
            process.exit(0);
          });
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      },
    );
}
