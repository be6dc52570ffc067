/**
 * The Add ONNX model form's config: nothing is assumed (each missing choice is named, in the
 * form's order), sizes are read as the CLI reads them, and what it builds passes the contract.
 */
import { describe, expect, it } from 'vitest';
import {
  configFromFields,
  EMPTY_FIELDS,
  fieldsFromConfig,
} from '../../src/renderer/src/training/add-model-config';
import { externalModelConfigSchema, type OnnxGraphInfo } from '../../src/shared/interop-schemas';

const graph: OnnxGraphInfo = {
  irVersion: 7,
  producer: 'test',
  opsets: [{ domain: '', version: 13 }],
  inputs: [{ name: 'x', type: 'float', dims: ['N', 3, 'H', 'W'] }],
  outputs: [{ name: 'y', type: 'float', dims: ['N', 2, 'H', 'W'] }],
  operators: ['Conv'],
  nodes: 1,
  bytes: 100,
};

const empty = EMPTY_FIELDS;

describe('configFromFields', () => {
  it('names the first choice still missing instead of assuming one', () => {
    expect(configFromFields(empty, graph)).toEqual({ missing: 'the input layout' });
    const partial = { ...empty, layout: 'NCHW', channels: '3', size: '320x256', mode: 'resize' };
    expect(configFromFields(partial, graph)).toEqual({ missing: 'the scaling' });
    const classes = { ...partial, scaling: '0..1', activation: 'logits', classes: '2' };
    expect(configFromFields(classes, graph)).toEqual({ missing: 'the foreground channel' });
    const twoInputs = {
      ...graph,
      inputs: [...graph.inputs, { name: 'z', type: 'float', dims: null }],
    };
    expect(configFromFields(empty, twoInputs)).toEqual({ missing: 'the input to use' });
  });

  it('builds a config the contract accepts', () => {
    const built = configFromFields(
      {
        ...empty,
        layout: 'NCHW',
        channels: '3',
        size: 'dynamic',
          mode: 'native',
        multiple: '32',
        scaling: 'mean-std',
        mean: '0.485, 0.456, 0.406',
        std: '0.229, 0.224, 0.225',
        activation: 'logits',
        classes: '2',
        foreground: '1',
      },
      graph,
    );
    expect('config' in built).toBe(true);
    if (!('config' in built)) return;
    const config = externalModelConfigSchema.parse(built.config);
    expect(config.input).toMatchObject({ size: 'dynamic', mode: 'native', multiple: 32 });
    expect(config.input.mean).toEqual([0.485, 0.456, 0.406]);
    expect(config.output).toMatchObject({ activation: 'logits', classes: 2, foreground: 1 });
    const sized = configFromFields(
      {
        ...empty,
        layout: 'NHWC',
        channels: '1',
        size: '320x256',
        mode: 'tile',
        scaling: '0..1',
        activation: 'probabilities',
        classes: '1',
      },
      graph,
    );
    expect('config' in sized && sized.config.input.size).toEqual([256, 320]);
  });

  it('fills the fields from a config (the model.json beside a file) and builds the same config back', () => {
    const configs = [
      {
        input: {
          layout: 'NCHW',
          channels: 3,
          size: [256, 320],
          mode: 'tile',
          scaling: 'mean-std',
          mean: [0.1, 0.2, 0.3],
          std: [1, 2, 3],
        },
        output: { name: 'y', activation: 'logits', classes: 2, foreground: 1, threshold: 0.4 },
      },
      {
        input: {
          name: 'x',
          layout: 'NHWC',
          channels: 1,
          size: 'dynamic',
          mode: 'native',
          multiple: 16,
          scaling: '0..1',
        },
        output: { activation: 'probabilities', classes: 1 },
      },
    ];
    for (const raw of configs) {
      const config = externalModelConfigSchema.parse(raw);
      const built = configFromFields(fieldsFromConfig(config), graph);
      expect('config' in built && externalModelConfigSchema.parse(built.config)).toEqual(config);
    }
  });
});
