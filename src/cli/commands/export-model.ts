/**
 * `qataseg export-model --project DIR [--model VERSION] --out model.onnx [--overwrite] [--json]`:
 * a version as a standalone ONNX file with `model.json` beside it. Refused (exit 2) when a file
 * would be replaced without --overwrite.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { fail, printJson } from '../output';
import { isRefusal, openSession } from '../project-access';

interface ExportModelOptions {
  project: string;
  model?: string;
  out: string;
  overwrite?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('export-model')
    .description(
      'write a model version as a standalone ONNX file (float32 NCHW, probabilities out) with model.json beside it',
    )
    .requiredOption('--project <dir>', 'project folder')
    .option('--model <version>', 'model version (default: active)')
    .requiredOption('--out <file.onnx>', 'ONNX file to write; model.json goes beside it')
    .option('--overwrite', 'replace the files if they exist')
    .option('--json', 'print the result as JSON')
    .action(async (options: ExportModelOptions) => {
      // Through Service.call like every command (the ML worker writes the file); reads only, so
      // it runs beside a server or another command that has the project open for writing.
      const session = await openSession(options.project, 'auto', 'This model export', {
        reader: true,
      });
      try {
        // Absolute where it was typed: a server resolves relative paths against the project.
        const result = await session.invoke('models.exportOnnx', {
          version: options.model,
          out: path.resolve(options.out),
          overwrite: options.overwrite ?? false,
        });
        if (options.json) printJson(result);
        else
          process.stdout.write(
            `${result.version}: ${result.file} (${(result.bytes / 2 ** 20).toFixed(1)} MiB, input [${result.inputShape.join(', ')}]) and ${result.description}\n`,
          );
      } catch (error) {
        if (isRefusal(error)) fail(error.message);
        throw error;
      } finally {
        session.close();
      }
    });
}
