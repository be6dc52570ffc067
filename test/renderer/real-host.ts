/**
 * The review editor against a real host under jsdom: the core service on a temp project (real
 * SQLite, real PNGs) reached through the contract's own client as `window.api`. jsdom has no
 * canvas or image decoder, so a test file replaces only the browser's pixel codec (../media) with
 * sharp, by mocking it with `mediaCodec` below; canvases get a bare 2D context.
 *
 * The service is kept on globalThis: a test's `vi.resetModules()` gives the mocked codec a fresh
 * copy of this module, which must still find the host the test started.
 */
import sharp from 'sharp';
import { vi } from 'vitest';
import { createApi } from '../../src/shared/client';
import { ApiError, type MediaKind } from '../../src/shared/contract';
// The host is real and runs in-process here; the renderer code under test still reaches it only
// through window.api (the contract's client), which is what the rule protects.
/* eslint-disable no-restricted-imports */
import { createService, type Service } from '../../src/core/service';
/* eslint-enable no-restricted-imports */
import { projectWithImages, type FixtureImage } from '../unit/project-fixtures';

const slot = globalThis as { qatasegTestHost?: Service | null };

export async function decodeGray(png: Buffer) {
  const { data, info } = await sharp(png)
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data), maxValue: 255 };
}

async function mediaOf(url: string) {
  const [, kind, id] = /^test:\/\/(\w+)\/(\d+)/.exec(url)!;
  const response = await slot.qatasegTestHost!.media(
    kind as MediaKind,
    Number(id),
    new URLSearchParams(),
  );
  return decodeGray(response.body);
}

export async function pngBase64(data: Uint8Array, w: number, h: number): Promise<string> {
  const gray = data.map((v) => (v > 0 ? 255 : 0));
  const png = await sharp(Buffer.from(gray), { raw: { width: w, height: h, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
  return png.toString('base64');
}

/** What a test file's `vi.mock('…/review/media', …)` returns: sharp for the browser's codec. */
export const mediaCodec = {
  loadImage: mediaOf,
  loadGrey: mediaOf,
  encodeLabelPng: pngBase64,
};

/** A 2D context that accepts what the overlays paint (jsdom's canvas has none). */
function stubCanvas(): void {
  const context = {
    createImageData: (width: number, height: number) => ({
      width,
      height,
      data: new Uint8ClampedArray(width * height * 4),
    }),
    putImageData: () => undefined,
    clearRect: () => undefined,
    drawImage: () => undefined,
  };
  // getContext's overloads cannot all be met by one stub; the overlays ask only for '2d'.
  vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockImplementation(() => context as never);
}

/**
 * A project with `images`, served like `qataseg serve` would ('http'), or like the desktop app's
 * preload ('electron': contextBridge keeps no Error properties, so errors arrive as plain
 * { code, message } bodies). `failing` holds methods the transport fails as a dropped connection
 * does, `lostAnswers` methods whose answer is lost after the host ran them.
 */
export async function startHost(
  images: FixtureImage[],
  options: { width: number; height: number; transport?: 'http' | 'electron' },
) {
  const transport = options.transport ?? 'http';
  const fixture = await projectWithImages(images, options.width, options.height);
  fixture.store.close();
  const service = createService({
    transport: 'http',
    projectDir: fixture.dir,
    // The review needs no ML worker (and jsdom's URL cannot locate its entry file).
    workerLauncher: () => {
      throw new Error('no ML worker in this test');
    },
  });
  slot.qatasegTestHost = service;
  const failing = new Set<string>();
  /** Methods the host runs but whose answer never arrives (the server stopped right after). */
  const lostAnswers = new Set<string>();
  // As over HTTP: JSON in and out, errors as { code, message }.
  window.api = createApi({
    async call(method, input) {
      if (failing.has(method)) throw new TypeError('Failed to fetch');
      try {
        const output: unknown = await service.invoke(method as never, input as never);
        if (lostAnswers.has(method)) throw new TypeError('Failed to fetch');
        return JSON.parse(JSON.stringify(output)) as unknown;
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        if (transport === 'http') throw new ApiError(error.code, error.message);
        throw { code: error.code, message: error.message }; // eslint-disable-line @typescript-eslint/only-throw-error -- what crosses the bridge
      }
    },
    // The host's own events, as the server's socket forwards them.
    subscribe: (listener) => service.subscribe(listener),
    mediaUrl: (kind, id) => `test://${kind}/${id}`,
  });
  stubCanvas();
  const { review } = await import('../../src/renderer/src/review/controller');
  const { useReviewStore } = await import('../../src/renderer/src/review/review-store');
  const panels = await import('../../src/renderer/src/review/Panels');
  return {
    service,
    ids: fixture.ids,
    store: service.project(),
    failing,
    lostAnswers,
    review,
    useReviewStore,
    panels,
  };
}

export function stopHost(): void {
  slot.qatasegTestHost?.close();
  slot.qatasegTestHost = null;
  delete window.api;
}

/** The label in force on the host, decoded. */
export async function hostLabel(service: Service, imageId: number): Promise<Uint8Array> {
  const detail = await service.invoke('images.get', { id: imageId });
  const response = await service.media('mask', detail.labelRevisionId!, new URLSearchParams());
  return (await decodeGray(response.body)).data;
}
