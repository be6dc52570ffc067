/**
 * A replica's thread (a worker_threads script; ./replicas.ts starts it): holds one training-step
 * session and runs it on the part of each batch it is sent, so that two replicas on one
 * intra-op thread each keep both cores busy through the step's memory-bound and serial nodes.
 */
import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';
import type * as OrtModule from 'onnxruntime-node';
import type { ReplicaReply, ReplicaRequest, TensorData } from './replica-messages';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node') as typeof OrtModule;
let session: OrtModule.InferenceSession | null = null;
/** The shared feeds' views on the loop's shared memory, and this thread's copies ORT reads. */
let shared: { view: Float32Array; tensor: OrtModule.Tensor }[] = [];
let sharedFeeds: Record<string, OrtModule.Tensor> = {};

async function handle(request: ReplicaRequest): Promise<ReplicaReply> {
  if (request.type === 'session') {
    await session?.release();
    session = null;
    session = await ort.InferenceSession.create(request.bytes, request.options);
    // onnxruntime-node refuses SharedArrayBuffer views as inputs: each run copies them first.
    shared = [];
    sharedFeeds = {};
    for (const [name, tensor] of Object.entries(request.shared)) {
      const local = new ort.Tensor('float32', new Float32Array(tensor.data.length), tensor.dims);
      shared.push({ view: tensor.data, tensor: local });
      sharedFeeds[name] = local;
    }
    return { id: request.id };
  }
  if (request.type === 'release') {
    await session?.release();
    session = null;
    shared = [];
    sharedFeeds = {};
    return { id: request.id };
  }
  if (!session) throw new Error('the replica has no session');
  for (const { view, tensor } of shared) (tensor.data as Float32Array).set(view);
  const feeds: Record<string, OrtModule.Tensor> = { ...sharedFeeds };
  for (const [name, tensor] of Object.entries(request.feeds))
    feeds[name] = new ort.Tensor('float32', tensor.data, tensor.dims);
  const out = await session.run(feeds);
  const outputs: Record<string, TensorData> = {};
  for (const [name, tensor] of Object.entries(out))
    outputs[name] = { data: tensor.data as Float32Array, dims: [...tensor.dims] };
  return { id: request.id, outputs };
}

parentPort?.on('message', (request: ReplicaRequest) => {
  handle(request).then(
    (reply) =>
      parentPort?.postMessage(
        reply,
        Object.values(reply.outputs ?? {}).map((tensor) => tensor.data.buffer as ArrayBuffer),
      ),
    (error: unknown) =>
      parentPort?.postMessage({
        id: request.id,
        error: error instanceof Error ? error.message : String(error),
      } satisfies ReplicaReply),
  );
});
