/**
 * Child process of review-durability.test.ts: saves masks through the service as fast as it can
 * and prints `ack <revisionId>` for each save once it has resolved (the API's acknowledgement).
 * The parent kills it with SIGKILL in the middle of the burst.
 */
import sharp from 'sharp';
import { createService } from '../../src/core/service';

const [projectDir, imageIdText, widthText, heightText] = process.argv.slice(2);
const imageId = Number(imageIdText);
const width = Number(widthText);
const height = Number(heightText);
const service = createService({ transport: 'http', projectDir });

for (let i = 0; ; i++) {
  const pixels = Buffer.alloc(width * height);
  // A different mask each time: a band that moves down the image.
  for (let x = 0; x < width; x++) pixels[(i % height) * width + x] = 255;
  const png = await sharp(pixels, { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
  const detail = await service.invoke('masks.save', { imageId, png: png.toString('base64') });
  process.stdout.write(`ack ${detail.correctionRevisionId}\n`);
}
