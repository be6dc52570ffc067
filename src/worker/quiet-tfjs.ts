/**
 * tfjs's JavaScript CPU backend, on its first tensor in Node, prints advice to install tfjs-node.
 * In this worker the CPU backend holds the model of record while onnxruntime (or another rung)
 * computes, and the ladder already tried tfjs-node and says why it is not used (`qataseg doctor`,
 * the ML badge): the advice is noise in the server's log, and wrong. Only that message is dropped.
 */
const NODE_BACKEND_ADVICE = /running TensorFlow\.js in Node\.js\. To speed things up/;

export function isTfjsNodeAdvice(args: readonly unknown[]): boolean {
  return args.some((arg) => typeof arg === 'string' && NODE_BACKEND_ADVICE.test(arg));
}

export function silenceTfjsNodeAdvice(): void {
  const warn = console.warn.bind(console);
  console.warn = (...args: unknown[]) => {
    if (!isTfjsNodeAdvice(args)) warn(...args);
  };
}
