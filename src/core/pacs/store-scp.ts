/**
 * Our store SCP (dcmjs-dimse's Scp on a socket server of ours, so it binds the address we choose):
 * answers C-ECHO and C-STORE for a called AE title, accepting an association only from calling AE
 * titles `allowed` says yes to (else A-ASSOCIATE-RJ, "calling AE title not recognised", logged).
 * Every storage SOP class is accepted, in the transfer syntax the peer proposes (uncompressed
 * preferred); the bytes are streamed to disk untouched (./dimse-files.ts). Used for a C-MOVE's
 * transfer and by `qataseg serve --store-scp` for pushes.
 */
import net from 'node:net';
import dimse from 'dcmjs-dimse';
import type { Writable } from 'node:stream';
import { StoreStreams, type InstanceSink } from './dimse-files';

const { Scp, constants } = dimse;
const { CEchoResponse } = dimse.responses;
const {
  PresentationContextResult,
  RejectResult,
  RejectSource,
  RejectReason,
  SopClass,
  TransferSyntax,
} = constants;

/** Storage SOP classes sit under this root (PS3.4 B.5), with a few outside it. */
const STORAGE_ROOT = '1.2.840.10008.5.1.4.';
const CLOSE_GRACE_MS = 2000;
const PREFERRED_SYNTAXES = [
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.ImplicitVRLittleEndian,
];

export interface StoreScpOptions {
  port: number;
  /** Address to bind (loopback unless told). */
  host?: string;
  /** The AE title we answer to; another called title is rejected. */
  aet: string;
  /** Whether a calling AE title may associate. */
  allowed(callingAet: string): boolean;
  /** Where one association's instances go (asked once per association). */
  sink(callingAet: string): InstanceSink;
  /** One line per association accepted or refused. */
  log?(line: string): void;
}

export interface StoreScp {
  readonly port: number;
  close(): Promise<void>;
}

type Association = InstanceType<typeof dimse.association.Association>;
type PresentationContext = InstanceType<typeof dimse.association.PresentationContext>;
type CEchoRequest = InstanceType<typeof dimse.requests.CEchoRequest>;
type CEchoResponseType = InstanceType<typeof CEchoResponse>;
type CStoreRequest = InstanceType<typeof dimse.requests.CStoreRequest>;
type CStoreResponse = InstanceType<typeof dimse.responses.CStoreResponse>;
type DatasetType = InstanceType<typeof dimse.Dataset>;

function scpClass(options: StoreScpOptions) {
  return class StoreScpConnection extends Scp {
    private streams: StoreStreams | null = null;
    private association: Association | null = null;

    override associationRequested(association: Association): void {
      const calling = association.getCallingAeTitle().trim();
      const called = association.getCalledAeTitle().trim();
      const refuse = (reason: number, why: string) => {
        options.log?.(`store SCP: refused an association from ${calling} to ${called}: ${why}`);
        this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, reason);
      };
      if (called !== options.aet)
        return refuse(RejectReason.CalledAeNotRecognized, `we answer to ${options.aet}`);
      if (!options.allowed(calling))
        return refuse(
          RejectReason.CallingAeNotRecognized,
          `${calling} is not in the project's allow list`,
        );
      this.association = association;
      for (const { id } of association.getPresentationContexts()) {
        const context = association.getPresentationContext(id);
        const abstract = context.getAbstractSyntaxUid();
        const offered = context.getTransferSyntaxUids();
        if (abstract !== SopClass.Verification && !abstract.startsWith(STORAGE_ROOT)) {
          context.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
          continue;
        }
        const syntax = PREFERRED_SYNTAXES.find((uid) => offered.includes(uid)) ?? offered[0];
        if (syntax) context.setResult(PresentationContextResult.Accept, syntax);
        else context.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
      }
      this.streams = new StoreStreams(options.sink(calling));
      options.log?.(`store SCP: accepted an association from ${calling}`);
      this.sendAssociationAccept();
    }

    override associationReleaseRequested(): void {
      this.sendAssociationReleaseResponse();
    }

    override cEchoRequest(
      request: CEchoRequest,
      callback: (response: CEchoResponseType) => void,
    ): void {
      const response = CEchoResponse.fromRequest(request);
      response.setStatus(constants.Status.Success);
      callback(response);
    }

    override createStoreWritableStream(context: PresentationContext, request: CStoreRequest) {
      return this.streams!.open(context, request);
    }

    override createDatasetFromStoreWritableStream(
      stream: Writable,
      context: PresentationContext,
      callback: (dataset: DatasetType) => void,
    ): void {
      this.streams!.close(stream, context, callback as (dataset: unknown) => void);
    }

    override cStoreRequest(
      request: CStoreRequest,
      callback: (response: CStoreResponse) => void,
    ): void {
      callback(this.streams!.respond(request) as CStoreResponse);
    }

    override abort(): void {
      this.streams?.abandon();
    }
  };
}

/** Listens; resolves once the port is bound (rejects if it cannot be). */
export function startStoreScp(options: StoreScpOptions): Promise<StoreScp> {
  const Connection = scpClass(options);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const scp = new Connection(socket, {}) as unknown as {
      connected: boolean;
      on(event: string, listener: (error?: Error) => void): void;
      abort(): void;
    };
    scp.connected = true;
    scp.on('networkError', () => socket.destroy());
    // A peer that goes away mid-instance leaves no .part file behind.
    socket.once('close', () => scp.abort());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // Peers get a moment to release their associations, then are cut.
            const cut = setTimeout(() => {
              for (const socket of sockets) socket.destroy();
            }, CLOSE_GRACE_MS);
            cut.unref();
          }),
      });
    });
  });
}
