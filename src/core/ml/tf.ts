/**
 * The runtime types every ML module names: tfjs's module, onnxruntime's, and the engine that holds
 * them. A leaf, so the network, losses and kernels name them without importing the ladder
 * (backends.ts), which loads them.
 */
import type * as TfModule from '@tensorflow/tfjs';
import type * as OrtModule from 'onnxruntime-node';

export type Tf = typeof TfModule;
export type Ort = typeof OrtModule;

/** What runs the network: tfjs always; onnxruntime too on its rung of the ladder. */
export interface Engine {
  tf: Tf;
  ort: Ort | null;
}
