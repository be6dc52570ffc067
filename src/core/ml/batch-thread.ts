/**
 * The loader thread's entry (a worker_threads script; ./batch-loader.ts starts it): prepares the
 * batches it is sent while the training step runs on the other thread, and hands the floats
 * back without a copy.
 */
import { parentPort } from 'node:worker_threads';
import { prepareBatch, type BatchRequest } from './batch';

parentPort?.on('message', (message: { id: number; request: BatchRequest }) => {
  try {
    const batch = prepareBatch(message.request);
    const buffers = [batch.images, batch.masks, ...(batch.weights ? [batch.weights] : [])].map(
      (array) => array.buffer as ArrayBuffer,
    );
    parentPort?.postMessage({ id: message.id, batch }, buffers);
  } catch (error) {
    parentPort?.postMessage({
      id: message.id,
      error: error instanceof Error ? error.message : String(error),
    });
  }
});
