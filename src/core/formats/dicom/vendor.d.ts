/** The parts of dcmjs (writing) and the codec packages this room uses (none ship types). */
declare module 'dcmjs' {
  export type DicomDataset = Record<string, { vr: string; Value?: unknown[] }>;
  export class DicomDict {
    constructor(meta: DicomDataset);
    dict: DicomDataset;
    write(): ArrayBuffer;
  }
  const dcmjs: {
    data: {
      DicomDict: typeof DicomDict;
      DicomMetaDictionary: {
        denaturalizeDataset(dataset: Record<string, unknown>): DicomDataset;
      };
    };
    log: { setLevel(level: string): void };
  };
  export default dcmjs;
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
