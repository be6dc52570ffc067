/**
 * DIMSE with `dcmjs-dimse` (no PDU codec of our own): C-ECHO, so `pacs echo` says whether the
 * server's AE accepts an association from ours. Errors name the server (AE@host:port).
 */
import dimse from 'dcmjs-dimse';
import type { PacsConnection } from '../../shared/pacs-schemas';

const { Client, constants } = dimse;
const { CEchoRequest } = dimse.requests;
// The library logs every connection to the console; its failures reach the caller as messages.
dimse.log.setLevel('silent');

/** How long a C-ECHO may take before it counts as no answer. */
const ECHO_TIMEOUT_MS = 10_000;

export function dimseServer(connection: PacsConnection): string {
  return `PACS ${connection.name} (${connection.aet}@${connection.host}:${connection.port})`;
}

/** One C-ECHO from our AE title to theirs: ok, or what failed in words. */
export function dimseEcho(
  connection: PacsConnection,
  timeoutMs = ECHO_TIMEOUT_MS,
): Promise<{ ok: boolean; message: string }> {
  const server = dimseServer(connection);
  if (!connection.host || !connection.port || !connection.aet || !connection.ourAet)
    return Promise.resolve({ ok: false, message: `${server}: incomplete DIMSE settings` });
  const { host, port, aet, ourAet } = connection;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (ok: boolean, message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ok, message });
    };
    const timer = setTimeout(
      () => finish(false, `${server}: C-ECHO failed: no answer within ${timeoutMs / 1000} s`),
      timeoutMs,
    );
    const client = new Client();
    const request = new CEchoRequest();
    let status: number | null = null;
    request.on('response', (response: { getStatus(): number }) => {
      status = response.getStatus();
    });
    client.addRequest(request);
    client.on('associationRejected', (rejection: { result?: number; reason?: number }) =>
      finish(
        false,
        `${server}: the association from ${ourAet} was rejected (result ${rejection.result ?? '?'}, reason ${rejection.reason ?? '?'}): check both AE titles`,
      ),
    );
    client.on('networkError', (error: Error) =>
      finish(false, `${server}: C-ECHO failed: the server could not be reached (${error.message})`),
    );
    client.on('closed', () => {
      if (status === constants.Status.Success)
        finish(true, `${server} answers C-ECHO from ${ourAet}`);
      else if (status !== null)
        finish(false, `${server}: C-ECHO answered with status 0x${status.toString(16)}`);
      else finish(false, `${server}: the connection closed without a C-ECHO answer`);
    });
    client.send(host, port, ourAet, aet, { connectTimeout: timeoutMs });
  });
}
