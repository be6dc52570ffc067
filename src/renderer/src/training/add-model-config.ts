/**
 * The add-model form's fields and the external model config they describe: what is still missing,
 * and the fields a known config (the model.json beside an ONNX file) fills in.
 */
import type {
  ExternalModelConfig,
  ExternalModelConfigInput,
  OnnxGraphInfo,
} from '../../../shared/interop-schemas';

export interface ConfigFields {
  inputName: string;
  layout: string;
  channels: string;
  size: string;
  mode: string;
  multiple: string;
  scaling: string;
  mean: string;
  std: string;
  outputName: string;
  activation: string;
  classes: string;
  foreground: string;
  threshold: string;
}

/** The form before any choice: nothing assumed but the usual threshold. */
export const EMPTY_FIELDS: ConfigFields = {
  inputName: '',
  layout: '',
  channels: '',
  size: '',
  mode: '',
  multiple: '1',
  scaling: '',
  mean: '',
  std: '',
  outputName: '',
  activation: '',
  classes: '',
  foreground: '',
  threshold: '0.5',
};

/** "256", "320x256" (width x height) or "dynamic" as the config's size; null when unreadable. */
export function parseSize(text: string): number | [number, number] | 'dynamic' | null {
  const value = text.trim().toLowerCase();
  if (value === 'dynamic') return 'dynamic';
  if (/^\d+$/.test(value)) return Number(value);
  const match = /^(\d+)\s*x\s*(\d+)$/.exec(value);
  return match ? [Number(match[2]), Number(match[1])] : null;
}

const numberList = (text: string) =>
  text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map(Number);

/** The config the fields describe, or what is still missing. */
export function configFromFields(
  fields: ConfigFields,
  graph: OnnxGraphInfo,
): { config: ExternalModelConfigInput } | { missing: string } {
  const size = parseSize(fields.size);
  const dynamic = size === 'dynamic';
  const classes = Number(fields.classes);
  const checks: [boolean, string][] = [
    [graph.inputs.length <= 1 || fields.inputName !== '', 'the input to use'],
    [fields.layout !== '', 'the input layout'],
    [fields.channels !== '', 'the channels'],
    [size !== null, 'the input size (256, 320x256 or dynamic)'],
    [dynamic || fields.mode !== '', 'the input mode'],
    [fields.scaling !== '', 'the scaling'],
    [graph.outputs.length <= 1 || fields.outputName !== '', 'the output to use'],
    [fields.activation !== '', 'what the output gives'],
    [Number.isInteger(classes) && classes > 0, 'the output channels'],
    [classes <= 1 || fields.foreground !== '', 'the foreground channel'],
  ];
  const missing = checks.find(([ok]) => !ok);
  if (missing) return { missing: missing[1] };
  const channels = Number(fields.channels) as 1 | 3;
  return {
    config: {
      input: {
        ...(fields.inputName ? { name: fields.inputName } : {}),
        layout: fields.layout as 'NCHW' | 'NHWC',
        channels,
        size: size!,
        mode: dynamic ? 'native' : (fields.mode as 'resize' | 'tile'),
        multiple: dynamic ? Math.max(1, Number(fields.multiple) || 1) : 1,
        scaling: fields.scaling as ExternalModelConfigInput['input']['scaling'],
        ...(fields.scaling === 'mean-std'
          ? { mean: numberList(fields.mean), std: numberList(fields.std) }
          : {}),
      },
      output: {
        ...(fields.outputName ? { name: fields.outputName } : {}),
        activation: fields.activation as 'logits' | 'probabilities',
        classes,
        foreground: classes > 1 ? Number(fields.foreground) : 0,
        threshold: Number(fields.threshold) || 0.5,
      },
    },
  };
}

/** The fields a config fills in: the form then shows what the file says, ready to check. */
export function fieldsFromConfig(config: ExternalModelConfig): ConfigFields {
  const { input, output } = config;
  const size = Array.isArray(input.size) ? `${input.size[1]}x${input.size[0]}` : String(input.size);
  return {
    inputName: input.name ?? '',
    layout: input.layout,
    channels: String(input.channels),
    size,
    mode:
      input.mode === 'native' || !input.mode
        ? input.size === 'dynamic'
          ? ''
          : 'resize'
        : input.mode,
    multiple: String(input.multiple ?? 1),
    scaling: input.scaling,
    mean: input.mean?.join(', ') ?? '',
    std: input.std?.join(', ') ?? '',
    outputName: output.name ?? '',
    activation: output.activation,
    classes: String(output.classes),
    foreground: output.classes > 1 ? String(output.foreground) : '',
    threshold: String(output.threshold),
  };
}
