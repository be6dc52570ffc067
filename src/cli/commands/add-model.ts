/**
 * `qataseg add-model FILE.onnx --project DIR [--config model.json] [--name NAME] [--json]`:
 * registers an external ONNX model as a version (tested on the locked test split). Without a
 * config the graph's inputs and outputs are shown and the user is asked for the rest on a terminal
 * (or with --ask, answers read line by line from stdin); otherwise it stops with a template to
 * fill in. Nothing is guessed.
 */
import path from 'node:path';
import readline from 'node:readline';
import type { Command } from 'commander';
import {
  addModelResultSchema,
  type ExternalModelConfig,
  type OnnxGraphInfo,
} from '../../shared/interop-schemas';
import { ApiError } from '../../shared/contract';
import { configTemplate, describeGraph } from '../../core/ml/external/config';
import { inspectOnnxFile, parseConfig, readConfigFile } from '../../core/ml/external/add-model';
import { fail, printJson } from '../output';
import { BACKEND_CHOICES, followJob, openService, type CommonOptions } from './ml-shared';

interface AddModelOptions extends CommonOptions {
  config?: string;
  name?: string;
  ask?: boolean;
}

/** Asks questions on stderr and reads answers from stdin, one line each; null at end of input. */
function questioner() {
  const lines = readline.createInterface({ input: process.stdin, terminal: false });
  const queue: string[] = [];
  const waiting: ((line: string | null) => void)[] = [];
  let closed = false;
  lines.on('line', (line) => {
    const next = waiting.shift();
    if (next) next(line);
    else queue.push(line);
  });
  lines.on('close', () => {
    closed = true;
    for (const next of waiting.splice(0)) next(null);
  });
  const nextLine = () =>
    new Promise<string | null>((resolve) => {
      if (queue.length > 0) resolve(queue.shift() ?? null);
      else if (closed) resolve(null);
      else waiting.push(resolve);
    });
  return {
    /** Asks until `parse` accepts the answer (it returns undefined for a bad one). */
    async ask<T>(question: string, parse: (answer: string) => T | undefined): Promise<T> {
      for (;;) {
        process.stderr.write(`${question}: `);
        const line = await nextLine();
        if (line === null) fail('no answer (end of input): give --config FILE instead');
        const value = parse(line.trim());
        if (value !== undefined) return value;
        process.stderr.write('  not one of the choices, again\n');
      }
    },
    close: () => lines.close(),
  };
}

const oneOf =
  <T extends string>(...choices: T[]) =>
  (answer: string) =>
    choices.find((choice) => choice.toLowerCase() === answer.toLowerCase());

const positiveInteger = (answer: string) => {
  const n = Number(answer);
  return Number.isInteger(n) && n > 0 ? n : undefined;
};

const numbers = (count: number) => (answer: string) => {
  const values = answer.split(',').map((v) => Number(v.trim()));
  return values.length === count && values.every(Number.isFinite) ? values : undefined;
};

/** Asks for every choice the config needs, with the graph's shapes shown first. */
async function askConfig(graph: OnnxGraphInfo): Promise<ExternalModelConfig> {
  const q = questioner();
  try {
    const input: Record<string, unknown> = {};
    const output: Record<string, unknown> = {};
    if (graph.inputs.length > 1)
      input.name = await q.ask(
        `Input to use (${graph.inputs.map((v) => v.name).join(', ')})`,
        oneOf(...graph.inputs.map((v) => v.name)),
      );
    input.layout = await q.ask('Input layout (NCHW or NHWC)', oneOf('NCHW', 'NHWC'));
    input.channels = Number(
      await q.ask('Channels (1 gray, or 3 with the gray image replicated)', oneOf('1', '3')),
    );
    const size = await q.ask(
      'Input size (256, 256x320 for width x height, or dynamic)',
      (answer): number | [number, number] | 'dynamic' | undefined => {
        if (answer.toLowerCase() === 'dynamic') return 'dynamic';
        const square = positiveInteger(answer);
        if (square) return square;
        const match = /^(\d+)\s*x\s*(\d+)$/i.exec(answer);
        return match ? [Number(match[2]), Number(match[1])] : undefined;
      },
    );
    input.size = size;
    if (size === 'dynamic') {
      input.mode = 'native';
      input.multiple = await q.ask('Pad images to a multiple of (1 for none)', positiveInteger);
    } else {
      input.mode = await q.ask(
        'Input mode (resize the whole image, or tile at native resolution)',
        oneOf('resize', 'tile'),
      );
    }
    input.scaling = await q.ask(
      'Scaling of 8-bit gray v (0..1 = v/255, -1..1, z-score per image, mean-std per channel)',
      oneOf('0..1', '-1..1', 'z-score', 'mean-std'),
    );
    if (input.scaling === 'mean-std') {
      const channels = input.channels as number;
      input.mean = await q.ask(`Mean of v/255 per channel (${channels} values)`, numbers(channels));
      input.std = await q.ask(`Std of v/255 per channel (${channels} values)`, numbers(channels));
    }
    if (graph.outputs.length > 1)
      output.name = await q.ask(
        `Output to use (${graph.outputs.map((v) => v.name).join(', ')})`,
        oneOf(...graph.outputs.map((v) => v.name)),
      );
    output.activation = await q.ask(
      'The output gives (logits or probabilities)',
      oneOf('logits', 'probabilities'),
    );
    const classes = await q.ask('Channels of the output (1, or K classes)', positiveInteger);
    output.classes = classes;
    output.foreground =
      classes > 1
        ? await q.ask(`Foreground class channel (0..${classes - 1})`, (answer) => {
            const n = Number(answer);
            return Number.isInteger(n) && n >= 0 && n < classes ? n : undefined;
          })
        : 0;
    return parseConfig({ input, output });
  } finally {
    q.close();
  }
}

export function register(program: Command): void {
  program
    .command('add-model')
    .description(
      'register an external ONNX model as a version (it predicts, evaluates and compares like one trained here)',
    )
    .argument('<file>', 'the .onnx file (copied into the project)')
    .option('--project <dir>', 'project folder')
    .option('--config <file>', 'JSON config: input layout, channels, size, scaling; output kind')
    .option('--name <version>', 'version name (default: the next v<N>)')
    .option('--ask', 'without --config, ask for it on stdin even when it is not a terminal')
    .option('--backend <name>', BACKEND_CHOICES, 'auto')
    .option('--json', 'print the result as JSON: { version, testDice, testImages }')
    .action(async (file: string, options: AddModelOptions) => {
      if (!options.project) fail('--project DIR is required');
      let graph: OnnxGraphInfo;
      let config: ExternalModelConfig;
      try {
        graph = await inspectOnnxFile(file);
        if (options.config) {
          config = await readConfigFile(options.config);
        } else {
          process.stderr.write(
            `${file}:\n${describeGraph(graph)
              .map((l) => `  ${l}`)
              .join('\n')}\n`,
          );
          if (!(process.stdin.isTTY || options.ask)) {
            if (options.json)
              printJson({ needsConfig: true, graph, template: configTemplate(graph) });
            fail(
              `no --config: say how images go in and what comes out (the shapes above), e.g.\n${JSON.stringify(configTemplate(graph), null, 2)}`,
            );
          }
          config = await askConfig(graph);
          process.stderr.write(`config: ${JSON.stringify(config)}\n`);
        }
      } catch (error) {
        if (error instanceof ApiError) fail(error.message);
        throw error;
      }
      const service = await openService(options, 'Adding the model');
      try {
        const job = await service
          .invoke('models.add', { path: path.resolve(file), name: options.name, config })
          .catch((error: unknown) => {
            if (error instanceof ApiError && error.code !== 'internal') fail(error.message);
            throw error;
          });
        const finished = await followJob(service, job);
        if (finished.state !== 'succeeded') {
          fail(
            `adding the model ${finished.state}: ${finished.error}`,
            finished.state === 'cancelled' ? 130 : finished.detail.refused === true ? 2 : 1,
          );
        }
        const result = addModelResultSchema.parse(finished.result);
        if (options.json) printJson(result);
        else
          process.stdout.write(
            `${result.version}: added from ${file}; test Dice ${result.testDice?.toFixed(4) ?? '-'} on ${result.testImages} images of the locked test split\n`,
          );
      } finally {
        service.close();
      }
    });
}
