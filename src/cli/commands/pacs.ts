/**
 * `qataseg pacs add|list|remove|echo|search|retrieve|send|allow`: the project's PACS connections, a probe,
 * a QIDO-RS search, a WADO-RS retrieve into the project and a STOW-RS send of each image's SEG.
 * A password or token is read from stdin (`--password-stdin`, `--token-stdin`), never from the
 * command line (where `ps` and shell history would keep it). --json outputs follow
 * src/shared/pacs-schemas.ts.
 */
import type { Command } from 'commander';
import type { Job } from '../../shared/contract';
import {
  pacsAddInputSchema,
  pacsAllowInputSchema,
  pacsRetrieveResultSchema,
  pacsSearchInputSchema,
  pacsSendInputSchema,
  pacsSendResultSchema,
  type PacsRetrieveResult,
  type PacsSearchResult,
  type PacsSendResult,
} from '../../shared/pacs-schemas';
import type { CliSession } from '../project-access';
import { fail, printJson } from '../output';
import { followJob, parseInteger, withProject } from './ml-shared';

interface ProjectOption {
  project: string;
  json?: boolean;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline is the terminal's, not the secret's.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function issues(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
}

/** Follows a started job to its end; a failure or cancel exits non-zero with its reason. */
async function finished(session: CliSession, started: Job, json: boolean | undefined) {
  const job = await followJob(session, started, { json });
  if (job.state === 'cancelled') fail(`${started.kind} cancelled`, 130);
  if (job.state !== 'succeeded') fail(`${started.kind} failed: ${job.error}`, 1);
  return job.result;
}

function searchLines(result: PacsSearchResult): string {
  if (result.studies.length === 0) return 'no studies match';
  const lines: string[] = [];
  for (const study of result.studies) {
    lines.push(
      `${study.studyInstanceUid}  ${study.patientId} ${study.patientName}  ${study.studyDate}  ${study.accessionNumber}  ${study.modalities.join('/')}  ${study.instances ?? '?'} instances  ${study.description}`,
    );
    for (const series of study.series)
      lines.push(
        `    ${series.seriesInstanceUid}  ${series.modality}  ${series.bodyPart}  ${series.instances ?? '?'} instances  ${series.description}`,
      );
  }
  if (result.more) lines.push(`more studies: --offset ${result.offset + result.limit}`);
  return lines.join('\n');
}

function retrieveLines(result: PacsRetrieveResult): string {
  const lines = [
    `retrieved ${result.fetched} of ${result.listed} instances (${result.alreadyHeld} already in the project), ${result.failed.length} failed`,
  ];
  for (const failure of result.failed.slice(0, 20))
    lines.push(`    ${failure.sopInstanceUid}: ${failure.reason}`);
  if (result.import) {
    const { refresh, report } = result.import;
    lines.push(
      `imported: ${refresh.added} added, ${refresh.unchanged} unchanged, ${report.skipped.length} skipped`,
    );
    for (const skipped of report.skipped.slice(0, 20))
      lines.push(`    ${skipped.path}: ${skipped.reason}`);
  }
  return lines.join('\n');
}

function sendLines(result: PacsSendResult): string {
  const lines = [
    `sent to ${result.connection}: ${result.stored} stored, ${result.failed} failed, ${result.skipped} skipped`,
  ];
  for (const entry of result.instances.filter((item) => item.status !== 'stored').slice(0, 20))
    lines.push(`    ${entry.image}: ${entry.status}: ${entry.message}`);
  return lines.join('\n');
}

export function register(program: Command): void {
  const pacs = program
    .command('pacs')
    .description('PACS connections: add, list, remove, echo, search, retrieve, send, allow');

  pacs
    .command('add <name>')
    .description('add (or replace) a DICOMweb or DIMSE connection')
    .requiredOption('--project <dir>', 'project folder')
    .option('--dicomweb <url>', 'DICOMweb base URL (QIDO-RS, WADO-RS, STOW-RS under it)')
    .option('--dimse <aet@host:port>', 'their AE title, host and DICOM port')
    .option('--our-aet <aet>', 'DIMSE: our AE title')
    .option('--our-port <n>', 'DIMSE: our port (for C-MOVE)', parseInteger)
    .option('--user <user>', 'DICOMweb basic authentication: the user name')
    .option('--password-stdin', 'DICOMweb basic authentication: read the password from stdin')
    .option('--token-stdin', 'DICOMweb bearer authentication: read the token from stdin')
    .option('--ca-file <pem>', 'DICOMweb over https: the CA that signed the server certificate')
    .option('--json', 'print the connection as JSON')
    .action(
      async (
        name: string,
        options: ProjectOption & {
          dicomweb?: string;
          dimse?: string;
          ourAet?: string;
          ourPort?: number;
          user?: string;
          passwordStdin?: boolean;
          tokenStdin?: boolean;
          caFile?: string;
        },
      ) => {
        if (Boolean(options.dicomweb) === Boolean(options.dimse))
          fail('give one of --dicomweb URL or --dimse AET@HOST:PORT');
        let raw: unknown;
        if (options.dicomweb) {
          if (options.passwordStdin && options.tokenStdin)
            fail('give --password-stdin or --token-stdin, not both');
          const auth = options.passwordStdin ? 'basic' : options.tokenStdin ? 'bearer' : 'none';
          raw = {
            name,
            kind: 'dicomweb',
            url: options.dicomweb,
            auth,
            username: options.user,
            secret: auth === 'none' ? undefined : await readStdin(),
            caFile: options.caFile,
          };
        } else {
          const match = /^(.+)@(.+):(\d+)$/.exec(options.dimse ?? '');
          if (!match) fail('--dimse takes AET@HOST:PORT');
          raw = {
            name,
            kind: 'dimse',
            aet: match[1],
            host: match[2],
            port: Number(match[3]),
            ourAet: options.ourAet,
            ourPort: options.ourPort,
          };
        }
        const input = pacsAddInputSchema.safeParse(raw);
        if (!input.success) fail(issues(input.error));
        const added = await withProject(options, 'adding a PACS connection', false, (session) =>
          session.invoke('pacs.add', input.data),
        );
        if (options.json) printJson(added);
        else
          process.stdout.write(
            `added ${added.name} (${added.url ?? `${added.aet}@${added.host}:${added.port}`})\n`,
          );
      },
    );

  pacs
    .command('list')
    .description('list the connections (never their secrets)')
    .requiredOption('--project <dir>', 'project folder')
    .option('--json', 'print the list as JSON')
    .action(async (options: ProjectOption) => {
      const list = await withProject(options, 'listing PACS connections', true, (session) =>
        session.invoke('pacs.list'),
      );
      if (options.json) printJson(list);
      else if (list.length === 0) process.stdout.write('no PACS connections\n');
      else
        for (const entry of list)
          process.stdout.write(
            `${entry.name}  ${entry.kind}  ${entry.url ?? `${entry.aet}@${entry.host}:${entry.port}`}  auth ${entry.auth}${entry.hasSecret ? ' (secret kept)' : ''}\n`,
          );
    });

  pacs
    .command('remove <name>')
    .description('remove a connection and its secret')
    .requiredOption('--project <dir>', 'project folder')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, options: ProjectOption) => {
      const result = await withProject(options, 'removing a PACS connection', false, (session) =>
        session.invoke('pacs.remove', { name }),
      );
      if (options.json) printJson(result);
      else process.stdout.write(result.removed ? `removed ${name}\n` : `no connection ${name}\n`);
    });

  pacs
    .command('echo <name>')
    .description('say what works and what does not (a QIDO-RS probe; C-ECHO for DIMSE)')
    .requiredOption('--project <dir>', 'project folder')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, options: ProjectOption) => {
      const result = await withProject(options, 'probing a PACS', true, (session) =>
        session.invoke('pacs.echo', { name }),
      );
      if (options.json) printJson(result);
      else
        for (const check of result.checks)
          process.stdout.write(`${check.ok ? 'ok' : 'FAILED'}  ${check.what}: ${check.message}\n`);
      if (!result.ok) process.exitCode = 1;
    });

  pacs
    .command('search <name>')
    .description('search studies (QIDO-RS): their series and instance counts, a page at a time')
    .requiredOption('--project <dir>', 'project folder')
    .option('--patient-id <id>', 'Patient ID')
    .option('--patient-name <name>', 'Patient Name (* and ? wildcards)')
    .option('--from <date>', 'study date from (YYYY-MM-DD)')
    .option('--to <date>', 'study date to (YYYY-MM-DD)')
    .option('--modality <modality>', 'a modality in the study (CR, DX, ...)')
    .option('--accession <number>', 'Accession Number')
    .option('--body-part <part>', 'Body Part Examined of a series (CHEST, ...)')
    .option('--offset <n>', 'first study of the page', parseInteger, 0)
    .option('--limit <n>', 'studies per page (at most 500)', parseInteger, 50)
    .option('--json', 'print the page as JSON')
    .action(
      async (
        name: string,
        options: ProjectOption & {
          patientId?: string;
          patientName?: string;
          from?: string;
          to?: string;
          modality?: string;
          accession?: string;
          bodyPart?: string;
          offset: number;
          limit: number;
        },
      ) => {
        const input = pacsSearchInputSchema.safeParse({
          name,
          patientId: options.patientId,
          patientName: options.patientName,
          studyDateFrom: options.from,
          studyDateTo: options.to,
          modality: options.modality,
          accessionNumber: options.accession,
          bodyPart: options.bodyPart,
          offset: options.offset,
          limit: options.limit,
        });
        if (!input.success) fail(issues(input.error));
        const result = await withProject(options, 'searching a PACS', true, (session) =>
          session.invoke('pacs.search', input.data),
        );
        if (options.json) printJson(result);
        else process.stdout.write(`${searchLines(result)}\n`);
      },
    );

  pacs
    .command('retrieve <name>')
    .description(
      'retrieve a study or series into the project (WADO-RS; DIMSE: C-GET, or C-MOVE with --move), then import it',
    )
    .requiredOption('--project <dir>', 'project folder')
    .requiredOption('--study <uid>', 'Study Instance UID')
    .option('--series <uid>', 'only this Series Instance UID')
    .option('--move', 'DIMSE: C-MOVE to our AE title and port instead of C-GET')
    .option('--json', 'print progress and the result as JSON lines')
    .action(
      async (
        name: string,
        options: ProjectOption & { study: string; series?: string; move?: boolean },
      ) => {
        const result = await withProject(
          options,
          'retrieving from a PACS',
          false,
          async (session) => {
            const started = await session.invoke('pacs.retrieve', {
              name,
              studyInstanceUid: options.study,
              seriesInstanceUid: options.series,
              ...(options.move ? { method: 'c-move' as const } : {}),
            });
            return pacsRetrieveResultSchema.parse(await finished(session, started, options.json));
          },
        );
        if (options.json) printJson(result);
        else process.stdout.write(`${retrieveLines(result)}\n`);
        if (result.failed.length > 0) process.exitCode = 1;
      },
    );

  pacs
    .command('allow [aet...]')
    .description(
      'add calling AE titles to the list allowed to push to `qataseg serve --store-scp` (no AE title: print the list)',
    )
    .requiredOption('--project <dir>', 'project folder')
    .option('--remove', 'remove the AE titles from the list instead')
    .option('--json', 'print the list as JSON')
    .action(async (aets: string[], options: ProjectOption & { remove?: boolean }) => {
      const input = pacsAllowInputSchema.safeParse(
        aets.length === 0 ? {} : options.remove ? { remove: aets } : { add: aets },
      );
      if (!input.success) fail(issues(input.error));
      const result = await withProject(
        options,
        'changing the store SCP allow list',
        aets.length === 0,
        (session) => session.invoke('pacs.allow', input.data),
      );
      if (options.json) printJson(result);
      else
        process.stdout.write(
          result.allowed.length === 0
            ? 'no AE titles allowed to push (besides the DIMSE connections)\n'
            : `allowed to push: ${result.allowed.join(', ')} (and the DIMSE connections)\n`,
        );
    });

  pacs
    .command('send <name>')
    .description(
      "send each DICOM image's SEG (STOW-RS, or C-STORE for DIMSE); a resend replaces, never duplicates",
    )
    .requiredOption('--project <dir>', 'project folder')
    .option('--source <source>', 'ground-truth|label|predicted', 'label')
    .option('--model <version>', 'predicted: the model version (default: the active model)')
    .option('--json', 'print progress and the result as JSON lines')
    .action(async (name: string, options: ProjectOption & { source: string; model?: string }) => {
      const input = pacsSendInputSchema.safeParse({
        name,
        source: options.source,
        model: options.model,
      });
      if (!input.success) fail(issues(input.error));
      const result = await withProject(options, 'sending to a PACS', true, async (session) => {
        const started = await session.invoke('pacs.send', input.data);
        return pacsSendResultSchema.parse(await finished(session, started, options.json));
      });
      if (options.json) printJson(result);
      else process.stdout.write(`${sendLines(result)}\n`);
      if (result.failed > 0) process.exitCode = 1;
    });
}
