/**
 * `qataseg user add NAME --role ROLE --project DIR [--json]` and `qataseg user list|disable|reset`:
 * the team's users (issue 23). add and reset print a one-time password and a personal token,
 * shown this once. Through Service.call like every project command (the `qataseg serve` that holds
 * the project answers when one does; the CLI is the project's owner).
 */
import type { Command } from 'commander';
import type { TeamUserInfo, UserSecrets } from '../../shared/contract-team-auth';
import { roleSchema } from '../../shared/team-schemas';
import { isRefusal, openSession, type CliSession } from '../project-access';
import { fail, printJson } from '../output';

async function withSession<T>(
  project: string,
  what: string,
  reader: boolean,
  run: (session: CliSession) => Promise<T>,
): Promise<T> {
  const session = await openSession(project, 'auto', what, { reader });
  try {
    return await run(session);
  } catch (error) {
    if (isRefusal(error)) fail(error.message);
    throw error;
  } finally {
    session.close();
  }
}

function printSecrets(result: UserSecrets, json: boolean | undefined, what: string): void {
  if (json) {
    printJson(result);
    return;
  }
  process.stdout.write(
    `${what} ${result.user.name} (${result.user.role}). Give them these; they are shown only now:\n` +
      `  one-time password: ${result.password}\n` +
      `  personal token:    ${result.token}   (scripts: the x-qataseg-token header)\n`,
  );
}

function printUsers(users: TeamUserInfo[]): void {
  if (users.length === 0) {
    process.stdout.write('no users: the project is single-user (no sign-in)\n');
    return;
  }
  const rows = users.map((u) => [
    u.name,
    u.role,
    u.createdAt.slice(0, 19).replace('T', ' '),
    u.disabledAt ? `disabled ${u.disabledAt.slice(0, 19).replace('T', ' ')}` : 'enabled',
  ]);
  const header = ['name', 'role', 'added', 'state'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const row of [header, ...rows]) {
    process.stdout.write(
      `${row
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd()}\n`,
    );
  }
}

export function register(program: Command): void {
  const user = program
    .command('user')
    .description('the team of a project: add, list, disable and reset users (serve --team)');
  user
    .command('add <name>')
    .description('add a user; prints their one-time password and personal token once')
    .requiredOption('--role <role>', `one of ${roleSchema.options.join(', ')}`)
    .requiredOption('--project <dir>', 'project folder')
    .option('--json', 'print the user and secrets as JSON')
    .action(async (name: string, options: { role: string; project: string; json?: boolean }) => {
      const role = roleSchema.safeParse(options.role);
      if (!role.success) fail(`--role must be one of ${roleSchema.options.join(', ')}`);
      const result = await withSession(options.project, 'Adding a user', false, (session) =>
        session.invoke('users.add', { name, role: role.data }),
      );
      printSecrets(result, options.json, 'Added');
    });
  user
    .command('list')
    .description('list the users with their roles and whether they are enabled')
    .requiredOption('--project <dir>', 'project folder')
    .option('--json', 'print the list as JSON')
    .action(async (options: { project: string; json?: boolean }) => {
      const users = await withSession(options.project, 'Listing users', true, (session) =>
        session.invoke('users.list'),
      );
      if (options.json) printJson(users);
      else printUsers(users);
    });
  user
    .command('disable <name>')
    .description(
      'disable a user: their sessions end at once, their password and token stop working',
    )
    .requiredOption('--project <dir>', 'project folder')
    .option('--json', 'print the user as JSON')
    .action(async (name: string, options: { project: string; json?: boolean }) => {
      const result = await withSession(options.project, 'Disabling a user', false, (session) =>
        session.invoke('users.disable', { name }),
      );
      if (options.json) printJson(result);
      else process.stdout.write(`${result.name} is disabled; their sessions have ended\n`);
    });
  user
    .command('reset <name>')
    .description('a new one-time password and token for a user (the old ones stop working)')
    .requiredOption('--project <dir>', 'project folder')
    .option('--json', 'print the user and secrets as JSON')
    .action(async (name: string, options: { project: string; json?: boolean }) => {
      const result = await withSession(options.project, 'Resetting a user', false, (session) =>
        session.invoke('users.reset', { name }),
      );
      printSecrets(result, options.json, 'Reset');
    });
}
