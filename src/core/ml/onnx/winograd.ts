/**
 * Winograd F(2x2, 3x3) for a 3x3 'same' convolution as ONNX nodes: each 4x4 input tile (stride 2)
 * is transformed by B^T d B (one stride-2 convolution of every channel with 16 fixed 4x4 kernels
 * of 0/±1), the filters by G g G^T (a small product per step), the 16 transformed planes are
 * multiplied by 16 batched products [cout x cin]·[cin x tiles], and A^T m A maps each tile's 16
 * products back to its 2x2 outputs. 4 multiplies per output and input-channel pair against 9.
 */
import type { GraphBuilder } from './graph';

const BT = [
  [1, 0, -1, 0],
  [0, 1, 1, 0],
  [0, -1, 1, 0],
  [0, 1, 0, -1],
];
const G = [
  [1, 0, 0],
  [0.5, 0.5, 0.5],
  [0.5, -0.5, 0.5],
  [0, 0, 1],
];
const AT = [
  [1, 1, 1, 0],
  [0, 1, -1, -1],
];

/** [16, 1, 4, 4]: kernel k = 4i + j holds BT[i][a] * BT[j][b] at (a, b). */
export function inputTransformKernels(): number[] {
  const out: number[] = [];
  for (let i = 0; i < 4; i++)
    for (let j = 0; j < 4; j++)
      for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) out.push(BT[i][a] * BT[j][b]);
  return out;
}

/** [9, 16]: column 4i + j holds G[i][a] * G[j][b] at row 3a + b. */
export function filterTransformMatrix(): number[] {
  const out: number[] = [];
  for (let a = 0; a < 3; a++)
    for (let b = 0; b < 3; b++)
      for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) out.push(G[i][a] * G[j][b]);
  return out;
}

/** [4, 16]: row 2r + s holds AT[r][i] * AT[s][j] at column 4i + j. */
export function outputTransformMatrix(): number[] {
  const out: number[] = [];
  for (let r = 0; r < 2; r++)
    for (let s = 0; s < 2; s++)
      for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) out.push(AT[r][i] * AT[s][j]);
  return out;
}

/** G g G^T of every filter of w [cout, cin, 3, 3], as [16, cout, cin]. */
export function winogradFilters(g: GraphBuilder, w: string, cin: number, cout: number): string {
  const flat = g.op('Reshape', [w, g.ints([cout * cin, 9])]);
  const transformed = g.op('MatMul', [flat, g.constant(filterTransformMatrix(), 'float', [9, 16])]);
  return g.op('Transpose', [g.op('Reshape', [transformed, g.ints([cout, cin, 16])])], {
    perm: [2, 0, 1],
  });
}

/**
 * z = conv(x, w) with 'same' padding for x [n, cin, h, h] (h even), given the transformed
 * filters u [16, cout, cin] of winogradFilters.
 */
export function winogradConv3x3(
  g: GraphBuilder,
  x: string,
  u: string,
  shape: { n: number; cin: number; cout: number; h: number },
): string {
  const { n, cin, cout, h } = shape;
  const half = h / 2;
  const tiles = half * half;
  const planes = g.op(
    'Conv',
    [
      g.op('Reshape', [x, g.ints([n * cin, 1, h, h])]),
      g.constant(inputTransformKernels(), 'float', [16, 1, 4, 4]),
    ],
    { pads: [1, 1, 1, 1], strides: [2, 2] },
  );
  // [n, cin, 16, tiles] -> [n, 16, cin, tiles]
  const v = g.op('Transpose', [g.op('Reshape', [planes, g.ints([n, cin, 16, tiles])])], {
    perm: [0, 2, 1, 3],
  });
  const m = g.op('MatMul', [u, v]); // [n, 16, cout, tiles]
  // A^T m A as one product over the 16 planes: [4, 16] x [n, 16, cout * tiles].
  const y = g.op('MatMul', [
    g.constant(outputTransformMatrix(), 'float', [4, 16]),
    g.op('Reshape', [m, g.ints([n, 16, cout * tiles])]),
  ]);
  // [n, 2, 2, cout, half, half] -> [n, cout, half, 2, half, 2]
  const spread = g.op('Transpose', [g.op('Reshape', [y, g.ints([n, 2, 2, cout, half, half])])], {
    perm: [0, 3, 4, 1, 5, 2],
  });
  return g.op('Reshape', [spread, g.ints([n, cout, h, h])]);
}
