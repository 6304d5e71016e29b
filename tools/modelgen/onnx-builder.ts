/**
 * @module onnx-builder
 * A small ONNX graph builder over onnx-proto (opset 17, IR 8). Generated architectures are
 * written with it node by node, so the graphs are genuine layer stacks that onnxruntime runs
 * exactly as it runs an exported Hub model. Every initializer is also kept in `weights`, so the
 * plain TypeScript reference forward pass can recompute outputs from the same numbers.
 */
import onnxProto from 'onnx-proto';
import { mulberry32, normalFiller } from './rng.js';

const { onnx } = onnxProto;
type INode = onnxProto.onnx.INodeProto;
type ITensor = onnxProto.onnx.ITensorProto;
type IValueInfo = onnxProto.onnx.IValueInfoProto;
type IGraph = onnxProto.onnx.IGraphProto;
type IAttr = onnxProto.onnx.IAttributeProto;

/** ONNX element types used by the generator. */
export const DType = {
  float: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
} as const;
export type DTypeCode = (typeof DType)[keyof typeof DType];

/** An attribute value: number = INT, number[] = INTS, string = STRING, or a tagged float/graph. */
export type AttrValue = number | number[] | string | { f: number } | { floats: number[] } | { g: IGraph };

/** A weight as stored in the graph: row-major data with its dims. */
export interface Weight {
  dims: number[];
  data: Float32Array;
}

/** How to initialise a weight. `normal` draws N(0, std) from the seeded generator. */
export type Init = { normal: number } | 'zeros' | 'ones' | Float32Array;

function attr(name: string, v: AttrValue): IAttr {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: use {f: ${v}} for floats`);
    return { name, type: A.INT, i: v };
  }
  if (typeof v === 'string') return { name, type: A.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: A.INTS, ints: v };
  if ('f' in v) return { name, type: A.FLOAT, f: v.f };
  if ('floats' in v) return { name, type: A.FLOATS, floats: v.floats };
  return { name, type: A.GRAPH, g: v.g };
}

function valueInfo(name: string, elemType: DTypeCode, shape: Array<number | string> | null): IValueInfo {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        ...(shape ? { shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } : {}),
      },
    },
  };
}

/**
 * Builds one ONNX graph. Names are generated (`n12`) unless given; weights get their given name.
 */
export class GraphBuilder {
  /** Every float initializer, by name, in insertion order. */
  readonly weights = new Map<string, Weight>();
  private nodes: INode[] = [];
  private readonly inits: ITensor[] = [];
  private readonly inputs: IValueInfo[] = [];
  private readonly outputs: IValueInfo[] = [];
  private counter = 0;
  private readonly fill: (out: Float32Array, std: number) => void;

  constructor(seed: number) {
    this.fill = normalFiller(mulberry32(seed));
  }

  /** A fresh unique value name. */
  fresh(prefix = 'n'): string {
    return `${prefix}${this.counter++}`;
  }

  /** Declares a graph input. String dims are symbolic (e.g. `batch_size`). */
  input(name: string, elemType: DTypeCode, shape: Array<number | string>): string {
    this.inputs.push(valueInfo(name, elemType, shape));
    return name;
  }

  /** Declares a graph output; `value` is renamed to `name` through an Identity node. */
  output(name: string, value: string, elemType: DTypeCode, shape: Array<number | string>): void {
    this.nodes.push({ opType: 'Identity', input: [value], output: [name], name: `out_${name}` });
    this.outputs.push(valueInfo(name, elemType, shape));
  }

  /** Adds a float weight initializer and records it for reference computations. */
  weight(name: string, dims: number[], init: Init): string {
    if (this.weights.has(name)) throw new Error(`duplicate weight ${name}`);
    const size = dims.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (init instanceof Float32Array) {
      if (init.length !== size) throw new Error(`weight ${name}: ${init.length} values for dims ${dims}`);
      data = init;
    } else {
      data = new Float32Array(size);
      if (init === 'ones') data.fill(1);
      else if (init !== 'zeros') this.fill(data, init.normal);
    }
    this.weights.set(name, { dims, data });
    this.inits.push({
      name,
      dims,
      dataType: DType.float,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return name;
  }

  /** A float constant (not recorded as a weight). */
  constF(values: number[], dims: number[] = [values.length]): string {
    const name = this.fresh('cf');
    const data = Float32Array.from(values);
    this.inits.push({ name, dims, dataType: DType.float, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  /** An int64 constant; `dims` defaults to a 1-D tensor, `[]` gives a scalar. */
  constI(values: number[], dims: number[] = [values.length]): string {
    const name = this.fresh('ci');
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.inits.push({ name, dims, dataType: DType.int64, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  /** Adds a node with one output and returns that output's name. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, out?: string): string {
    return this.opN(opType, inputs, 1, attrs, out ? [out] : undefined)[0]!;
  }

  /** Adds a node with `n` outputs. */
  opN(opType: string, inputs: string[], n: number, attrs: Record<string, AttrValue> = {}, outs?: string[]): string[] {
    const output = outs ?? Array.from({ length: n }, () => this.fresh());
    this.nodes.push({
      opType,
      input: inputs,
      output,
      name: this.fresh(opType.toLowerCase()),
      attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)),
    });
    return output;
  }

  /**
   * Builds a subgraph (for If branches). Nodes added inside `body` go to the subgraph; weights
   * added inside it stay outer initializers, which subgraphs may reference.
   */
  subgraph(name: string, body: () => Array<{ value: string; elemType: DTypeCode; rank: number }>): IGraph {
    const saved = this.nodes;
    this.nodes = [];
    const outs = body();
    const output = outs.map((o, i) => {
      const outName = this.fresh(`${name}_out${i}_`);
      this.nodes.push({ opType: 'Identity', input: [o.value], output: [outName], name: this.fresh('id') });
      return valueInfo(
        outName,
        o.elemType,
        Array.from({ length: o.rank }, (_, d) => `${outName}_d${d}`),
      );
    });
    const graph: IGraph = { name, node: this.nodes, output };
    this.nodes = saved;
    return graph;
  }

  /** Serialises the model (IR 8, opset 17). */
  toBytes(graphName: string, docString = ''): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'hf-model-server-modelgen',
      producerVersion: '1',
      docString,
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: this.inits,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
