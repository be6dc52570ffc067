/**
 * Reads what an ONNX file declares about itself (opsets, inputs, outputs, operators) from the
 * protobuf wire format, without running it: enough to show a user an external model's shapes and
 * to check them against the config before any session is created. Field numbers follow
 * onnx/onnx.proto; weights are skipped, never copied.
 */
import type { OnnxGraphInfo, OnnxValueInfo } from '../../../shared/interop-schemas';

const ELEMENT_TYPES: Record<number, string> = {
  1: 'float',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'double',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
};

interface Field {
  field: number;
  wire: number;
  /** Varint value (wire 0). */
  int: bigint;
  /** Payload of a length-delimited field (wire 2). */
  bytes: Uint8Array;
}

class ProtoReader {
  private offset = 0;
  constructor(private readonly data: Uint8Array) {}

  private varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.offset >= this.data.length) throw new Error('truncated varint');
      const byte = this.data[this.offset++];
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new Error('varint too long');
    }
  }

  *fields(): Generator<Field> {
    const empty = new Uint8Array(0);
    while (this.offset < this.data.length) {
      const key = Number(this.varint());
      const field = key >>> 3;
      const wire = key & 7;
      switch (wire) {
        case 0:
          yield { field, wire, int: this.varint(), bytes: empty };
          break;
        case 1:
          this.skip(8);
          break;
        case 2: {
          const length = Number(this.varint());
          const start = this.offset;
          this.skip(length);
          yield { field, wire, int: 0n, bytes: this.data.subarray(start, start + length) };
          break;
        }
        case 5:
          this.skip(4);
          break;
        default:
          throw new Error(`unsupported protobuf wire type ${wire}`);
      }
    }
  }

  private skip(length: number): void {
    if (this.offset + length > this.data.length) throw new Error('truncated field');
    this.offset += length;
  }
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function readValueInfo(bytes: Uint8Array): OnnxValueInfo {
  let name = '';
  let type = 'unknown';
  let dims: OnnxValueInfo['dims'] = null;
  for (const f of new ProtoReader(bytes).fields()) {
    if (f.field === 1 && f.wire === 2) name = text(f.bytes);
    if (f.field !== 2 || f.wire !== 2) continue;
    for (const typeField of new ProtoReader(f.bytes).fields()) {
      if (typeField.wire !== 2) continue;
      if (typeField.field !== 1) {
        type = 'non-tensor';
        continue;
      }
      for (const tensor of new ProtoReader(typeField.bytes).fields()) {
        if (tensor.field === 1 && tensor.wire === 0)
          type = ELEMENT_TYPES[Number(tensor.int)] ?? `type ${tensor.int}`;
        if (tensor.field === 2 && tensor.wire === 2) {
          dims = [];
          for (const dim of new ProtoReader(tensor.bytes).fields()) {
            if (dim.field !== 1 || dim.wire !== 2) continue;
            let value: number | string | null = null;
            for (const d of new ProtoReader(dim.bytes).fields()) {
              if (d.field === 1 && d.wire === 0) value = Number(d.int);
              if (d.field === 2 && d.wire === 2) value = text(d.bytes);
            }
            dims.push(value);
          }
        }
      }
    }
  }
  return { name, type, dims };
}

/** The declared interface of an ONNX model; throws when the bytes are not an ONNX ModelProto. */
export function readOnnxGraphInfo(bytes: Uint8Array): OnnxGraphInfo {
  let irVersion = 0;
  let producer = '';
  let graph: Uint8Array | null = null;
  const opsets: OnnxGraphInfo['opsets'] = [];
  try {
    for (const f of new ProtoReader(bytes).fields()) {
      if (f.field === 1 && f.wire === 0) irVersion = Number(f.int);
      else if (f.field === 2 && f.wire === 2) producer = text(f.bytes);
      else if (f.field === 3 && f.wire === 2) producer = `${producer} ${text(f.bytes)}`.trim();
      else if (f.field === 7 && f.wire === 2) graph = f.bytes;
      else if (f.field === 8 && f.wire === 2) {
        let domain = '';
        let version = 0;
        for (const o of new ProtoReader(f.bytes).fields()) {
          if (o.field === 1 && o.wire === 2) domain = text(o.bytes);
          if (o.field === 2 && o.wire === 0) version = Number(o.int);
        }
        opsets.push({ domain, version });
      }
    }
  } catch (error) {
    throw new Error(`not an ONNX model (${(error as Error).message})`);
  }
  if (!graph || irVersion === 0) throw new Error('not an ONNX model (no graph or IR version)');
  const initializers = new Set<string>();
  const inputs: OnnxValueInfo[] = [];
  const outputs: OnnxValueInfo[] = [];
  const operators = new Set<string>();
  let nodes = 0;
  for (const f of new ProtoReader(graph).fields()) {
    if (f.wire !== 2) continue;
    if (f.field === 1) {
      nodes += 1;
      let op = '';
      let domain = '';
      for (const n of new ProtoReader(f.bytes).fields()) {
        if (n.field === 4 && n.wire === 2) op = text(n.bytes);
        if (n.field === 7 && n.wire === 2) domain = text(n.bytes);
      }
      operators.add(domain && domain !== 'ai.onnx' ? `${domain}:${op}` : op);
    } else if (f.field === 5) {
      for (const t of new ProtoReader(f.bytes).fields())
        if (t.field === 8 && t.wire === 2) initializers.add(text(t.bytes));
    } else if (f.field === 11) inputs.push(readValueInfo(f.bytes));
    else if (f.field === 12) outputs.push(readValueInfo(f.bytes));
  }
  return {
    irVersion,
    producer,
    opsets,
    // Before IR 4 every initializer was also listed as an input; those are weights, not inputs.
    inputs: inputs.filter((input) => !initializers.has(input.name)),
    outputs,
    operators: [...operators].sort(),
    nodes,
    bytes: bytes.length,
  };
}

/** A shape as people write it: [batch, 1, 256, 256], '?' where nothing is declared. */
export function formatDims(dims: OnnxValueInfo['dims']): string {
  if (!dims) return '[unknown rank]';
  return `[${dims.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}
