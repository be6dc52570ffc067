/** What the training loop and its replica threads (./replica-thread.ts) say to each other. */
import type * as OrtModule from 'onnxruntime-node';

export interface TensorData {
  data: Float32Array;
  dims: number[];
}

export type ReplicaRequest =
  | {
      type: 'session';
      id: number;
      bytes: Uint8Array;
      options: OrtModule.InferenceSession.SessionOptions;
      /** Feeds every run shares (the weights, on shared memory the loop updates between runs). */
      shared: Record<string, TensorData>;
    }
  | { type: 'run'; id: number; feeds: Record<string, TensorData> }
  | { type: 'release'; id: number };

export interface ReplicaReply {
  id: number;
  outputs?: Record<string, TensorData>;
  error?: string;
}
