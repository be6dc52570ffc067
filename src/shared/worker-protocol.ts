/**
 * Messages between the host (Electron main, CLI or server) and the ML worker process. Validated
 * with zod on both sides: the worker is a separate process and may be an older or crashed one.
 */
import { z } from 'zod';
import { backendChoiceSchema, backendNameSchema, ladderStepSchema } from './contract';

export const hostToWorkerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('init'), backend: backendChoiceSchema }),
  z.object({
    type: z.literal('job'),
    jobId: z.string(),
    kind: z.string(),
    params: z.unknown(),
  }),
  z.object({ type: z.literal('cancel'), jobId: z.string() }),
  z.object({ type: z.literal('shutdown') }),
  /** Heartbeat: a worker whose event loop turns answers with a pong. */
  z.object({ type: z.literal('ping'), seq: z.number().int() }),
]);
export type HostToWorker = z.infer<typeof hostToWorkerSchema>;

export const workerToHostSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('ready'),
    backend: backendNameSchema,
    ladder: z.array(ladderStepSchema),
    pid: z.number().int(),
  }),
  z.object({
    type: z.literal('init-failed'),
    ladder: z.array(ladderStepSchema),
    message: z.string(),
  }),
  z.object({ type: z.literal('progress'), jobId: z.string(), progress: z.unknown() }),
  z.object({ type: z.literal('result'), jobId: z.string(), result: z.unknown() }),
  z.object({
    type: z.literal('error'),
    jobId: z.string(),
    message: z.string(),
    cancelled: z.boolean(),
  }),
  z.object({ type: z.literal('pong'), seq: z.number().int() }),
  /** Sent by a worker about to die of an uncaught error: why its jobs end. */
  z.object({ type: z.literal('fatal'), message: z.string() }),
  z.object({
    type: z.literal('log'),
    level: z.enum(['info', 'warn', 'error']),
    message: z.string(),
  }),
]);
export type WorkerToHost = z.infer<typeof workerToHostSchema>;
