/**
 * `qataseg segment-label --project DIR [--name NAME] [--colour #RRGGBB] [--json]`: the segment
 * label and colour that DICOM SEG exports write (the project's settings). Without --name or
 * --colour it prints them; with either it changes them, through the `qataseg serve` that holds the
 * project when one does.
 */
import type { Command } from 'commander';
import { segmentLabelSchema, type SegmentLabel } from '../../shared/export-schemas';
import { fail, printJson } from '../output';
import { openService } from './ml-shared';

interface SegmentLabelOptions {
  project: string;
  name?: string;
  colour?: string;
  json?: boolean;
}

function show(label: SegmentLabel, json: boolean | undefined): void {
  if (json) printJson(label);
  else process.stdout.write(`segment label: ${label.name} (colour ${label.colour})\n`);
}

export function register(program: Command): void {
  program
    .command('segment-label')
    .description('show or set the segment label and colour that DICOM SEG exports write')
    .requiredOption('--project <dir>', 'project folder')
    .option('--name <name>', 'the segment label (at most 64 characters)')
    .option('--colour <#RRGGBB>', 'the segment colour, as #RRGGBB')
    .option('--json', 'print the label as JSON')
    .action(async (options: SegmentLabelOptions) => {
      const changing = options.name !== undefined || options.colour !== undefined;
      const session = await openService(
        { project: options.project, backend: 'auto' },
        changing ? 'setting the segment label' : 'reading the segment label',
        { reader: !changing },
      );
      try {
        const current = await session.invoke('export.segmentLabel');
        if (!changing) {
          show(current, options.json);
          return;
        }
        const wanted = segmentLabelSchema.safeParse({
          name: options.name ?? current.name,
          colour: options.colour ?? current.colour,
        });
        if (!wanted.success) fail(wanted.error.issues.map((issue) => issue.message).join('; '));
        show(await session.invoke('export.setSegmentLabel', wanted.data), options.json);
      } finally {
        session.close();
      }
    });
}
