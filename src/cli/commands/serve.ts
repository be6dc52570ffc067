/** `qataseg serve`: the workstation in a browser, over loopback HTTP + WebSocket with a token. */
import type { Command } from 'commander';
import { backendChoiceSchema } from '../../shared/contract';
import { createService } from '../../core/service';
import { rendererDir } from '../../core/environment';
import { ensureDemoProject } from '../../core/default-project';
import { prepareDemoModel } from '../../core/demo-model';
import { unsafeForWal } from '../../core/project/filesystem';
import { projectToken } from '../../server/session-token';
import { isLoopbackHost, remoteExposure, startServer } from '../../server/server';
import { teamGate } from '../../server/team-auth';
import { hasUsers } from '../../core/team/users';
import fs from 'node:fs';
import { fail, printJson } from '../output';
import { importResultSchema } from '../../shared/dataset-schemas';
import { startPushReceiver, type PushReceiver } from '../../core/pacs/push';
import { BACKEND_CHOICES } from './ml-shared';

/**
 * The store SCP of `--store-scp`: pushes land in the project's push folder and are imported
 * through the Service (a dataset.import job, queued with other writers), in batches.
 */
async function startStoreReceiver(
  service: ReturnType<typeof createService>,
  port: number,
  aet: string,
  host: string,
): Promise<PushReceiver> {
  try {
    return await startPushReceiver({
      port,
      host,
      aet,
      store: () => service.project(),
      importFolder: async (root) => {
        const job = await service.invoke('dataset.import', { root });
        return importResultSchema.parse(await service.jobs.wait(job.id));
      },
      log: (line) => process.stderr.write(`${line}\n`),
    });
  } catch (error) {
    return fail(`--store-scp ${port}: cannot listen: ${(error as Error).message}`);
  }
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('serve the workstation to a browser on this machine (token in the printed URL)')
    .option('--project <dir>', 'project folder to open (created if missing)')
    .option('--port <n>', 'port (0 picks a free one)', '8765')
    .option('--host <address>', 'address to bind; keep loopback unless you know why', '127.0.0.1')
    .option(
      '--allow-remote',
      'allow a --host other than loopback (other machines can then reach the server)',
    )
    .option('--backend <name>', `ML backend: ${BACKEND_CHOICES}`, 'auto')
    .option(
      '--new-token',
      'replace the token kept in the project folder (tabs with the old address must reopen)',
    )
    .option(
      '--read-only',
      'open the project for review only: nothing is saved to it (how projects on network folders open)',
    )
    .option(
      '--demo',
      'generate and import the demo dataset first if the project has no images, then train a small first model in the background and predict every image',
    )
    .option('--no-demo-model', 'with --demo: no first model (the dataset only)')
    .option(
      '--store-scp <port>',
      "also receive DICOM pushes (C-STORE) on this port into the project, importing as they arrive; calling AE titles must be in the project's allow list (qataseg pacs allow)",
    )
    .option('--aet <aet>', 'with --store-scp: the AE title we answer to', 'QATASEG')
    .option('--no-http', 'with --store-scp: no HTTP server, only the store SCP')
    .option(
      '--team',
      'serve the project to its team: everyone signs in (users: qataseg user add), roles enforced',
    )
    .option('--tls-cert <file>', 'HTTPS: the certificate (PEM), with --tls-key')
    .option('--tls-key <file>', 'HTTPS: the private key (PEM), with --tls-cert')
    .option(
      '--public-url <url>',
      'behind a reverse proxy: the address people open (e.g. https://team.example.org)',
    )
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
        allowRemote?: boolean;
        newToken?: boolean;
        readOnly?: boolean;
        storeScp?: string;
        aet: string;
        http: boolean;
        team?: boolean;
        tlsCert?: string;
        tlsKey?: string;
        publicUrl?: string;
      }) => {
        const port = Number(options.port);
        const scpPort = options.storeScp === undefined ? null : Number(options.storeScp);
        if (scpPort !== null && (!Number.isInteger(scpPort) || scpPort < 0 || scpPort > 65535))
          fail(`--store-scp must be a port 0..65535, got ${options.storeScp}`);
        if (scpPort !== null && !options.project) fail('--store-scp needs --project DIR');
        if (scpPort !== null && options.readOnly)
          fail('--store-scp writes to the project: not with --read-only');
        if (!options.http && scpPort === null) fail('--no-http needs --store-scp PORT');
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          fail(`--port must be 0..65535, got ${options.port}`);
        const remote = !isLoopbackHost(options.host);
        if (remote && !options.allowRemote) {
          fail(
            `--host ${options.host} is not a loopback address: ${remoteExposure(options.host, port)}.\n` +
              'Add --allow-remote to do this on purpose (a trusted network, or behind an HTTPS proxy).',
          );
        }
        if (Boolean(options.tlsCert) !== Boolean(options.tlsKey))
          fail('--tls-cert and --tls-key go together');
        const tls =
          options.tlsCert && options.tlsKey
            ? { cert: readPem(options.tlsCert), key: readPem(options.tlsKey) }
            : undefined;
        if (options.publicUrl && !/^https?:\/\/[^/]+\/?$/.test(options.publicUrl))
          fail(
            `--public-url must be an origin such as https://team.example.org, got ${options.publicUrl}`,
          );
        if (options.team && !options.project) fail('--team needs --project DIR');
        if (options.readOnly && options.demo)
          fail('--demo writes to the project: not with --read-only');
        // On a network folder the project is read into memory once and its folder never touched.
        const unsafe = options.readOnly && options.project ? unsafeForWal(options.project) : null;
        const readOnly = options.readOnly ? (unsafe ?? 'opened with --read-only') : undefined;
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
          projectReadOnly: readOnly,
          projectInMemory: unsafe !== null,
        });
        if (readOnly) {
          process.stderr.write(
            `Read-only: ${readOnly}. Reviews and edits are not saved; training, prediction and import are off.\n`,
          );
        }
        // The project's token survives restarts (open tabs keep working); no project, no file.
        let token: string | undefined;
        // A read-only project gets a token for this run only: nothing is written in its folder.
        const projectDir = service.projectOrNull()?.lock ? service.projectOrNull()?.dir : undefined;
        if (projectDir) {
          const kept = projectToken(projectDir, { rotate: options.newToken });
          token = kept.token;
          if (kept.replaced && !options.newToken) process.stderr.write(`Token: ${kept.replaced}\n`);
        }
        const store = service.projectOrNull();
        if (options.team && store && !hasUsers(store.db)) {
          service.close();
          fail(
            `${store.dir} has no users yet: --team asks everyone to sign in. Add the first admin:\n` +
              `  qataseg user add NAME --role admin --project ${store.dir}\n` +
              'then give them the one-time password it prints, and start serve --team again.',
          );
        }
        const receiver =
          scpPort === null
            ? null
            : await startStoreReceiver(service, scpPort, options.aet, options.host);
        if (!options.http) {
          if (options.json) printJson({ storeScp: receiver!.port, aet: options.aet });
          else
            process.stdout.write(
              `Receiving DICOM pushes as ${options.aet} on port ${receiver!.port} into ${options.project}\nCtrl+C stops it.\n`,
            );
          const stopScp = () => {
            void receiver!
              .close()
              .then(() => receiver!.idle())
              .then(() => {
                service.close();
                process.exit(0);
              });
          };
          process.once('SIGINT', stopScp);
          process.once('SIGTERM', stopScp);
          return;
        }
        // Start the ML worker now so the UI can show which backend the ladder chose.
        service.worker.ensureStarted().catch(() => undefined);
        const server = await startServer({
          service,
          host: options.host,
          port,
          token,
          staticDir: rendererDir(),
          allowRemote: options.allowRemote,
          tls,
          publicUrl: options.publicUrl,
          team: options.team
            ? teamGate({ service, ownerToken: token, trustProxy: Boolean(options.publicUrl) })
            : undefined,
        });
        // The CLI finds this server through the project's lock (and its token in the folder).
        service.projectOrNull()?.lock?.update({ url: server.url });
        if (remote) {
          process.stderr.write(
            `WARNING: serving on ${options.host}:${server.port}: ${remoteExposure(options.host, server.port)}.\n`,
          );
        }
        if (options.json) {
          printJson({
            url: server.url,
            urlWithToken: server.urlWithToken,
            token: server.token,
            port: server.port,
            ...(receiver ? { storeScp: receiver.port, aet: options.aet } : {}),
            team: Boolean(options.team),
          });
        } else {
          process.stdout.write(
            `QaTa Seg Workstation in browser mode${options.project ? ` (project ${options.project})` : ''}\n` +
              (options.team
                ? `Team members sign in at: ${new URL('/login', options.publicUrl ?? server.url).href}\n`
                : `Open: ${server.urlWithToken}\n`) +
              (receiver
                ? `Receiving DICOM pushes as ${options.aet} on port ${receiver.port}\n`
                : '') +
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
          void Promise.all([server.close(), receiver?.close().then(() => receiver.idle())]).then(
            () => {
              service.close();
              process.exit(0);
            },
          );
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      },
    );
}

function readPem(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    fail(`cannot read ${file}: ${(error as Error).message}`);
  }
}
