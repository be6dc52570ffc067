/** The parts of dcmjs and the codec packages this room uses (none of them ship types). */
declare module 'dcmjs' {
  export interface DicomElement {
    vr: string;
    Value?: unknown[];
    InlineBinary?: string;
  }
  export type DicomDataset = Record<string, DicomElement>;
  export class DicomDict {
    constructor(meta: DicomDataset);
    meta: DicomDataset;
    dict: DicomDataset;
    write(options?: { allowInvalidVRLength?: boolean; fragmentMultiframe?: boolean }): ArrayBuffer;
  }
  interface ReadOptions {
    ignoreErrors?: boolean;
    untilTag?: string | null;
    includeUntilTagValue?: boolean;
    noCopy?: boolean;
    forceStoreRaw?: boolean;
  }
  const dcmjs: {
    data: {
      DicomDict: typeof DicomDict;
      DicomMessage: { readFile(buffer: ArrayBuffer, options?: ReadOptions): DicomDict };
      DicomMetaDictionary: {
        naturalizeDataset(dataset: DicomDataset): Record<string, unknown>;
        denaturalizeDataset(dataset: Record<string, unknown>): DicomDataset;
        uid(): string;
      };
    };
    log: { setLevel(level: string): void };
  };
  export default dcmjs;
}

declare module 'jpeg-lossless-decoder-js' {
  export class Decoder {
    decode(
      buffer: ArrayBuffer,
      offset: number,
      length: number,
      numBytes?: number,
    ): Uint8Array | Uint16Array | Int16Array;
  }
}

/** The Emscripten decoders of @cornerstonejs/codec-charls and codec-openjpeg. */
interface CornerstoneFrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}
interface CornerstoneDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): CornerstoneFrameInfo;
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}
interface CornerstoneCodecOptions {
  print?: (text: string) => void;
  printErr?: (text: string) => void;
}
declare module '@cornerstonejs/codec-charls/decodewasmjs' {
  const factory: (
    options?: CornerstoneCodecOptions,
  ) => Promise<{ JpegLSDecoder: new () => CornerstoneDecoder }>;
  export default factory;
}
declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  const factory: (
    options?: CornerstoneCodecOptions,
  ) => Promise<{ J2KDecoder: new () => CornerstoneDecoder }>;
  export default factory;
}
