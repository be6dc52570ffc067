/**
 * Instances that arrive over DIMSE (C-STORE sub-operations of a C-GET, a C-MOVE into our store
 * SCP, a modality's push) are streamed straight to disk: dcmjs-dimse's store-stream hooks
 * (`createStoreWritableStream` / `createDatasetFromStoreWritableStream`, documented for the SCP;
 * set on the client's network for C-GET) give us each instance's bytes as they come, and we write
 * them after a File Meta Information header (written by dcmjs) into `<file>.part`, renamed to
 * `<file>` once whole. Memory holds a PDU, never an instance, let alone a series; a peer that
 * stops half-way leaves only a `.part` file, which the next run overwrites.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import dcmjs from 'dcmjs';
import dimse from 'dcmjs-dimse';

const { Dataset, constants } = dimse;
const { CStoreResponse } = dimse.responses;

/** Our Implementation Class UID in the meta header of files we write (a UUID-derived UID). */
const IMPLEMENTATION_CLASS_UID = '2.25.316151954131337920716436155458462231871';
const UID = /^[0-9]+(\.[0-9]+)*$/;

/** Where arriving instances go and who hears of them. */
export interface InstanceSink {
  /** The file an instance goes to, or a reason it is not taken (e.g. already held). */
  target(instance: { sopClassUid: string; sopInstanceUid: string }): string | { skip: string };
  /** A file was written whole (or skipped, or failed) for this instance; its C-STORE-RSP goes back next. */
  stored(outcome: StoreOutcome): void;
}

export interface StoreOutcome {
  sopClassUid: string;
  sopInstanceUid: string;
  /** The file written, null when the instance was skipped or failed. */
  file: string | null;
  /** Why not written, when not. */
  reason: string | null;
  /** Skipped on purpose (held already): still a success for the peer. */
  skipped: boolean;
}

/** What this room reads of an incoming C-STORE request. */
export interface StoreRequest {
  getAffectedSopInstanceUid(): string;
  getAffectedSopClassUid(): string;
}

interface PresentationContextLike {
  getAcceptedTransferSyntaxUid(): string | undefined;
}

interface AssociationLike {
  getPresentationContexts(): { id: number }[];
  addPresentationContext(abstractSyntaxUid: string): number;
  getPresentationContext(id: number): {
    getAbstractSyntaxUid(): string;
    addTransferSyntaxUid(uid: string): void;
    setProviderRole(role: boolean): void;
  };
}

/** The 128-byte preamble, "DICM" and the File Meta Information group, by dcmjs. */
export function part10Header(
  sopClassUid: string,
  sopInstanceUid: string,
  transferSyntaxUid: string,
): Buffer {
  const { DicomDict, DicomMetaDictionary } = dcmjs.data;
  const meta = DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: sopClassUid,
    MediaStorageSOPInstanceUID: sopInstanceUid,
    TransferSyntaxUID: transferSyntaxUid,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: 'QATASEG',
  });
  const dict = new DicomDict(meta);
  dict.dict = {};
  return Buffer.from(dict.write());
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException | null)?.code ?? 'error';
}

/** A Writable that keeps nothing (an instance we do not take is still read off the wire). */
function discard(): Writable {
  return new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });
}

/**
 * The store-stream half of a sink: `open` gives the stream an instance's bytes are written to,
 * `close` ends it and renames the file, `respond` answers the C-STORE with the outcome.
 */
export class StoreStreams {
  private readonly open_ = new Map<Writable, StoreOutcome & { part: string | null }>();
  private readonly outcomes = new Map<string, StoreOutcome>();

  constructor(private readonly sink: InstanceSink) {}

  open(context: PresentationContextLike, request: StoreRequest): Writable {
    const sopInstanceUid = request.getAffectedSopInstanceUid();
    const sopClassUid = request.getAffectedSopClassUid();
    const base = { sopClassUid, sopInstanceUid, skipped: false };
    if (!UID.test(sopInstanceUid) || !UID.test(sopClassUid)) {
      const stream = discard();
      this.open_.set(stream, { ...base, file: null, part: null, reason: 'not a valid SOP UID' });
      return stream;
    }
    const target = this.sink.target({ sopClassUid, sopInstanceUid });
    if (typeof target !== 'string') {
      const stream = discard();
      this.open_.set(stream, {
        ...base,
        skipped: true,
        file: null,
        part: null,
        reason: target.skip,
      });
      return stream;
    }
    const part = `${target}.part`;
    let stream: fs.WriteStream;
    try {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      stream = fs.createWriteStream(part);
    } catch (error) {
      // Read off the wire all the same; the peer is told it was not kept.
      const sink = discard();
      // The code only: the reason goes back to the peer, which has no business with our paths.
      const reason = `not written: ${errorCode(error)}`;
      this.open_.set(sink, { ...base, file: null, part: null, reason });
      return sink;
    }
    const syntax =
      context.getAcceptedTransferSyntaxUid() ?? constants.TransferSyntax.ImplicitVRLittleEndian;
    stream.write(part10Header(sopClassUid, sopInstanceUid, syntax));
    this.open_.set(stream, { ...base, file: target, part, reason: null });
    return stream;
  }

  close(stream: Writable, context: PresentationContextLike, callback: (dataset: unknown) => void) {
    const entry = this.open_.get(stream);
    this.open_.delete(stream);
    const done = (outcome: StoreOutcome) => {
      this.outcomes.set(outcome.sopInstanceUid, outcome);
      // The library wants a dataset for the request; the bytes are on disk, not in it.
      callback(new Dataset({}, context.getAcceptedTransferSyntaxUid()));
    };
    if (!entry)
      return done({
        sopClassUid: '',
        sopInstanceUid: '',
        file: null,
        reason: 'unknown stream',
        skipped: false,
      });
    const { part, ...outcome } = entry;
    if (!part || !outcome.file) return done(outcome);
    const file = outcome.file;
    const finished = (error?: Error | null) => {
      if (error) {
        fs.rmSync(part, { force: true });
        return done({ ...outcome, file: null, reason: `not written: ${errorCode(error)}` });
      }
      try {
        fs.renameSync(part, file);
        done(outcome);
      } catch (renameError) {
        done({ ...outcome, file: null, reason: `not written: ${errorCode(renameError)}` });
      }
    };
    if ((stream as fs.WriteStream).closed) finished((stream as fs.WriteStream).errored);
    else {
      stream.once('close', () => finished((stream as fs.WriteStream).errored));
      stream.end();
    }
  }

  /** The C-STORE-RSP for a request whose bytes `close` has dealt with. */
  respond(request: StoreRequest): unknown {
    const uid = request.getAffectedSopInstanceUid();
    const outcome = this.outcomes.get(uid) ?? {
      sopClassUid: request.getAffectedSopClassUid(),
      sopInstanceUid: uid,
      file: null,
      reason: 'no data received',
      skipped: false,
    };
    this.outcomes.delete(uid);
    this.sink.stored(outcome);
    const response = CStoreResponse.fromRequest(request as never);
    const ok = outcome.file !== null || outcome.skipped;
    // 0xA700: Refused, out of resources (the status a store SCP gives when it cannot keep it).
    response.setStatus(ok ? constants.Status.Success : 0xa700);
    if (!ok && outcome.reason) response.setErrorComment(outcome.reason.slice(0, 64));
    return response;
  }

  /** Removes the `.part` files of streams left open (the association broke mid-instance). */
  abandon(): void {
    for (const [stream, entry] of this.open_) {
      stream.destroy();
      if (entry.part) fs.rmSync(entry.part, { force: true });
    }
    this.open_.clear();
  }
}

interface NetworkHooks {
  sendAssociationRequest(association: AssociationLike): void;
  createStoreWritableStream(context: PresentationContextLike, request: StoreRequest): Writable;
  createDatasetFromStoreWritableStream(
    stream: Writable,
    context: PresentationContextLike,
    callback: (dataset: unknown) => void,
  ): void;
}

/**
 * Sets the store-stream hooks on a client's network (the object dcmjs-dimse's Client makes in
 * `send`, kept as `client.network`): the SCP class has them as overridable methods, the client
 * does not expose its network's class, so the instance's methods are replaced. Returns the
 * streams (to `abandon` when the association ends).
 */
export function streamingStore(
  client: unknown,
  sink: InstanceSink,
  sopClasses: string[],
): StoreStreams {
  const streams = new StoreStreams(sink);
  const network = (client as { network?: NetworkHooks }).network;
  if (!network) throw new Error('dcmjs-dimse client has no network after send');
  // The library proposes its image storage classes for a C-GET with the SCP role; a class it does
  // not list (a SEG in a study) is proposed here, with that role, before the request goes out.
  const send = network.sendAssociationRequest.bind(network);
  network.sendAssociationRequest = (association) => {
    for (const sopClass of sopClasses) {
      const known = association
        .getPresentationContexts()
        .some(
          ({ id }) => association.getPresentationContext(id).getAbstractSyntaxUid() === sopClass,
        );
      if (known) continue;
      const id = association.addPresentationContext(sopClass);
      const context = association.getPresentationContext(id);
      for (const syntax of [
        constants.TransferSyntax.ExplicitVRLittleEndian,
        constants.TransferSyntax.ImplicitVRLittleEndian,
      ])
        context.addTransferSyntaxUid(syntax);
      context.setProviderRole(true);
    }
    send(association);
  };
  network.createStoreWritableStream = (context, request) => streams.open(context, request);
  network.createDatasetFromStoreWritableStream = (stream, context, callback) =>
    streams.close(stream, context, callback);
  return streams;
}
