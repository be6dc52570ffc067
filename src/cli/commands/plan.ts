/**
 * `qataseg plan create|list|get|close`: team review's reading plans. `create --readers all|K`
 * assigns the selected images (`--split S`, else all) to every reader or to K readers per image,
 * balanced across the team's readers; `--blind`, `--reveal-after`, `--anonymous` and
 * `--threshold` are the plan's rules. --json outputs follow src/shared/contract-team-plans.ts.
 */
import type { Command } from 'commander';
import { splitSchema } from '../../shared/contract-review';
import {
  planCreateInputSchema,
  type PlanDetail,
  type PlanSummary,
} from '../../shared/contract-team-plans';
import { plural } from '../../shared/plural';
import { fail, printJson } from '../output';
import { parseInteger, parseNumber, withProject } from './ml-shared';

interface ProjectOption {
  project: string;
  json?: boolean;
}

interface CreateOptions extends ProjectOption {
  readers: string;
  split?: string;
  name?: string;
  blind?: boolean;
  revealAfter?: boolean;
  anonymous?: boolean;
  threshold?: string;
}

function summaryLine(plan: PlanSummary): string {
  const readers =
    plan.readersPerImage === null ? 'all readers' : `${plan.readersPerImage} per image`;
  const rules = [plan.blind ? 'blind' : 'open', plan.revealAfter ? 'reveal-after' : '']
    .filter(Boolean)
    .join(', ');
  return `plan ${plan.id} "${plan.name}" (${plan.status}): ${plural(plan.images, 'image')}, ${readers}, ${rules}; ${plan.read} of ${plan.assignments} reads done`;
}

function detailText(plan: PlanDetail): string {
  const lines = [summaryLine(plan)];
  for (const reader of plan.readers) {
    lines.push(`  ${reader.name}: ${reader.read} of ${reader.assigned} read`);
  }
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): void {
  const plan = program.command('plan').description('team review: reading plans');

  plan
    .command('create')
    .description('create a reading plan and assign its images to the team readers')
    .requiredOption('--project <dir>', 'project folder')
    .requiredOption('--readers <all|K>', 'every reader reads every image, or K readers per image')
    .option('--split <split>', 'only the images of this split (train, test, control, unassigned)')
    .option('--name <name>', 'the plan name')
    .option('--blind', 'readers never see other readers, the ground truth or its figures')
    .option('--reveal-after', "the model's prediction only after the reader's first save")
    .option('--anonymous', 'reader names hidden from the adjudicator')
    .option('--threshold <dice>', 'mean pairwise Dice below this goes to adjudication (0.7)')
    .option('--json', 'print the plan as JSON')
    .action(async (options: CreateOptions) => {
      const split = options.split === undefined ? null : splitSchema.safeParse(options.split);
      if (split && !split.success) fail(`unknown split ${options.split}`);
      const input = planCreateInputSchema.safeParse({
        name: options.name,
        selection: split ? { kind: 'split', split: split.data } : { kind: 'all' },
        readersPerImage: options.readers === 'all' ? 'all' : parseInteger(options.readers),
        blind: options.blind === true,
        revealAfter: options.revealAfter === true,
        anonymousReaders: options.anonymous === true,
        disagreementThreshold:
          options.threshold === undefined ? undefined : parseNumber(options.threshold),
      });
      if (!input.success) fail(input.error.issues.map((issue) => issue.message).join('; '));
      const created = await withProject(options, 'creating a reading plan', false, (session) =>
        session.invoke('plans.create', input.data),
      );
      if (options.json) printJson(created);
      else process.stdout.write(detailText(created));
    });

  plan
    .command('list')
    .description('list the reading plans with their progress')
    .requiredOption('--project <dir>', 'project folder')
    .option('--json', 'print the plans as JSON')
    .action(async (options: ProjectOption) => {
      const plans = await withProject(options, 'listing reading plans', true, (session) =>
        session.invoke('plans.list'),
      );
      if (options.json) printJson(plans);
      else
        process.stdout.write(
          plans.length ? `${plans.map(summaryLine).join('\n')}\n` : 'no plans\n',
        );
    });

  plan
    .command('get')
    .description("one plan with each reader's progress")
    .requiredOption('--project <dir>', 'project folder')
    .requiredOption('--id <id>', 'the plan id')
    .option('--json', 'print the plan as JSON')
    .action(async (options: ProjectOption & { id: string }) => {
      const id = parseInteger(options.id);
      const detail = await withProject(options, 'reading a plan', true, (session) =>
        session.invoke('plans.get', { id }),
      );
      if (options.json) printJson(detail);
      else process.stdout.write(detailText(detail));
    });

  plan
    .command('close')
    .description("close a plan: its readers' queues drop it, what they read stays")
    .requiredOption('--project <dir>', 'project folder')
    .requiredOption('--id <id>', 'the plan id')
    .option('--json', 'print the plan as JSON')
    .action(async (options: ProjectOption & { id: string }) => {
      const id = parseInteger(options.id);
      const detail = await withProject(options, 'closing a plan', false, (session) =>
        session.invoke('plans.close', { id }),
      );
      if (options.json) printJson(detail);
      else process.stdout.write(detailText(detail));
    });
}
