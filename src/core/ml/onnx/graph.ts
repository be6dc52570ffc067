/**
 * A small builder of ONNX graphs (opset 17, plus Microsoft's contrib domain for FusedMatMul) and
 * their serialisation to a ModelProto that onnxruntime loads from bytes. Field numbers follow
 * onnx/onnx.proto.
 */
import { ProtoWriter } from './protobuf';

export const OPSET = 17;
export const MS_DOMAIN = 'com.microsoft';

/** TensorProto.DataType values used here. */
export const DataType = { float: 1, int64: 7, bool: 9 } as const;
export type ElementType = keyof typeof DataType;

/** A float attribute (a bare number is an int attribute). */
export interface FloatAttr {
  float: number;
}
export type AttrValue = number | number[] | string | FloatAttr;

export const float = (value: number): FloatAttr => ({ float: value });

interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
  domain: string;
}

interface ValueSpec {
  name: string;
  type: ElementType;
  /** Dimension sizes, or names for dimensions fixed only at run time. */
  dims?: (number | string)[];
}

interface Initializer {
  name: string;
  type: ElementType;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

export class GraphBuilder {
  private readonly nodes: NodeSpec[] = [];
  private readonly inputs: ValueSpec[] = [];
  private readonly outputs: ValueSpec[] = [];
  private readonly initializers: Initializer[] = [];
  private readonly constants = new Map<string, string>();
  private counter = 0;

  constructor(private readonly name: string) {}

  private fresh(hint: string): string {
    return `${hint}_${this.counter++}`;
  }

  input(name: string, type: ElementType, dims?: (number | string)[]): string {
    this.inputs.push({ name, type, dims });
    return name;
  }

  output(name: string, type: ElementType = 'float', dims?: (number | string)[]): string {
    this.outputs.push({ name, type, dims });
    return name;
  }

  /** Marks an existing value as a graph output under a new name. */
  outputAs(
    value: string,
    name: string,
    type: ElementType = 'float',
    dims?: (number | string)[],
  ): string {
    this.node('Identity', [value], {}, { outputs: [name] });
    return this.output(name, type, dims);
  }

  initializer(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push({ name, type: 'float', dims, data });
    return name;
  }

  /** A shared constant: the same values give the same initializer. */
  constant(values: readonly number[], type: ElementType = 'float', dims?: number[]): string {
    const shape = dims ?? [values.length];
    const key = `${type}:${shape.join('x')}:${values.join(',')}`;
    const known = this.constants.get(key);
    if (known) return known;
    const name = this.fresh('const');
    const data =
      type === 'int64'
        ? BigInt64Array.from(values.map((v) => BigInt(v)))
        : Float32Array.from(values);
    this.initializers.push({ name, type, dims: shape, data });
    this.constants.set(key, name);
    return name;
  }

  scalar(value: number): string {
    return this.constant([value], 'float', []);
  }

  ints(values: readonly number[]): string {
    return this.constant(values, 'int64');
  }

  /** Adds a node and returns its outputs' names. */
  node(
    op: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
    options: { outputs?: number | string[]; domain?: string } = {},
  ): string[] {
    const outputs = Array.isArray(options.outputs)
      ? options.outputs
      : Array.from({ length: options.outputs ?? 1 }, () => this.fresh(op.toLowerCase()));
    this.nodes.push({ op, inputs, outputs, attrs, domain: options.domain ?? '' });
    return outputs;
  }

  /** A single-output node. */
  op(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, domain?: string): string {
    return this.node(op, inputs, attrs, { domain })[0];
  }

  toBytes(): Uint8Array {
    const model = new ProtoWriter();
    model.int(1, 8); // ir_version
    model.string(2, 'qataseg');
    model.message(7, (graph) => this.writeGraph(graph));
    model.message(8, (opset) => opset.string(1, '').int(2, OPSET));
    // Microsoft's contrib domains (FusedMatMul, the NCHWc kernels) are at version 1.
    for (const domain of new Set(this.nodes.map((node) => node.domain).filter(Boolean)))
      model.message(8, (opset) => opset.string(1, domain).int(2, 1));
    return model.finish();
  }

  private writeGraph(graph: ProtoWriter): void {
    for (const node of this.nodes) graph.message(1, (w) => writeNode(w, node));
    graph.string(2, this.name);
    for (const init of this.initializers) graph.message(5, (w) => writeTensor(w, init));
    for (const input of this.inputs) graph.message(11, (w) => writeValueInfo(w, input));
    for (const output of this.outputs) graph.message(12, (w) => writeValueInfo(w, output));
  }
}

function writeNode(w: ProtoWriter, node: NodeSpec): void {
  for (const input of node.inputs) w.string(1, input);
  for (const output of node.outputs) w.string(2, output);
  w.string(3, node.outputs[0]); // names the node in onnxruntime's profiles
  w.string(4, node.op);
  for (const [name, value] of Object.entries(node.attrs))
    w.message(5, (a) => writeAttribute(a, name, value));
  if (node.domain) w.string(7, node.domain);
}

function writeAttribute(a: ProtoWriter, name: string, value: AttrValue): void {
  a.string(1, name);
  if (typeof value === 'string') {
    a.string(4, value).int(20, 3);
  } else if (Array.isArray(value)) {
    a.packedInts(8, value).int(20, 7);
  } else if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: use float() for ${value}`);
    a.int(3, value).int(20, 2);
  } else {
    a.float(2, value.float).int(20, 1);
  }
}

function writeTensor(w: ProtoWriter, tensor: Initializer): void {
  w.packedInts(1, tensor.dims);
  w.int(2, DataType[tensor.type]);
  w.string(8, tensor.name);
  const data = tensor.data;
  w.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

function writeValueInfo(w: ProtoWriter, value: ValueSpec): void {
  w.string(1, value.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, DataType[value.type]);
      if (value.dims) {
        tensor.message(2, (shape) => {
          for (const dim of value.dims ?? [])
            shape.message(1, (d) => (typeof dim === 'number' ? d.int(1, dim) : d.string(2, dim)));
        });
      }
    }),
  );
}
