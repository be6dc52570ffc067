/**
 * The syntaxes and file shapes pydicom's corpus lacks, written by independent tools from one
 * 12-bit CR (pydicom): dcmtk's `dcmcjpeg +ee` (JPEG Extended, 12-bit lossy), `dcmconv +tb`
 * (Explicit VR Big Endian), `dcmconv -F` (a data set without the Part 10 meta header), GDCM's
 * `gdcmconv --j2k / --jpegls`, and a TIFF header in the preamble. Each imports and shows the
 * pixels pydicom reads from it (exact for lossless syntaxes, within 2 stored units for lossy).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/core/formats';
import { findImageDecoder } from '../../src/core/formats/registry';
import { probeDicomForImport } from '../../src/core/formats/dicom/decoder';
import { decodeDicomImage } from '../../src/core/formats/dicom/image';
import { dcmtk, gradient, PYTHON, tempDir, writeDicom } from './dicom-fixtures';

const ROWS = 48;
const COLUMNS = 64;
const REFERENCE = path.join(__dirname, '../fixtures/dicom/reference_decode.py');

/** pydicom's stored values of a file (reference_decode.py), and the transfer syntax it saw. */
function pydicomStored(file: string): Int32Array {
  const out = tempDir('qataseg-dicom-ref-');
  const line = execFileSync(PYTHON, [REFERENCE, out, file], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const { raw } = JSON.parse(line) as { raw?: string };
  if (!raw) throw new Error(`pydicom could not decode ${file}: ${line}`);
  return new Int32Array(new Uint8Array(fs.readFileSync(raw)).buffer);
}

function gdcmconv(args: string[], input: string, output: string): string {
  execFileSync('gdcmconv', [...args, input, output], { stdio: 'pipe' });
  return output;
}

/** The same file with a little-endian TIFF header in its 128-byte preamble (PS3.10 7.1). */
function withTiffPreamble(input: string, output: string): string {
  const bytes = fs.readFileSync(input);
  Buffer.from([0x49, 0x49, 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00]).copy(bytes, 0);
  fs.writeFileSync(output, bytes);
  return output;
}

describe('DICOM transfer syntaxes and file shapes by independent tools', () => {
  const dir = tempDir();
  const stored = gradient(ROWS, COLUMNS, 4095);
  const [source] = writeDicom(dir, [
    { name: 'cr12.dcm', rows: ROWS, columns: COLUMNS, values: stored, bitsStored: 12 },
  ]);
  const at = (name: string): string => path.join(dir, name);
  const cases: { name: string; file: () => string; lossy: boolean }[] = [
    {
      name: 'JPEG Extended 12-bit (dcmcjpeg +ee)',
      lossy: true,
      file: () => dcmtk('dcmcjpeg', ['+ee'], source, at('ext.dcm')),
    },
    {
      name: 'Explicit VR Big Endian (dcmconv +tb)',
      lossy: false,
      file: () => dcmtk('dcmconv', ['+tb'], source, at('be.dcm')),
    },
    {
      name: 'no meta header, implicit VR (dcmconv -F +ti)',
      lossy: false,
      file: () => dcmtk('dcmconv', ['-F', '+ti'], source, at('raw-ile')),
    },
    {
      name: 'no meta header, explicit VR (dcmconv -F +te)',
      lossy: false,
      file: () => dcmtk('dcmconv', ['-F', '+te'], source, at('raw-ele')),
    },
    {
      name: 'no meta header, big endian (dcmconv -F +tb)',
      lossy: false,
      file: () => dcmtk('dcmconv', ['-F', '+tb'], source, at('raw-ebe')),
    },
    {
      name: 'JPEG 2000 lossless (gdcmconv --j2k)',
      lossy: false,
      file: () => gdcmconv(['--j2k'], source, at('j2k.dcm')),
    },
    {
      name: 'JPEG-LS lossless (gdcmconv --jpegls)',
      lossy: false,
      file: () => gdcmconv(['--jpegls'], source, at('jls.dcm')),
    },
    {
      name: 'TIFF header in the preamble',
      lossy: false,
      file: () => withTiffPreamble(source, at('tiff-preamble.dcm')),
    },
  ];

  for (const { name, file, lossy } of cases) {
    it(`imports ${name} with pydicom's pixels`, async () => {
      const path = file();
      const bytes = new Uint8Array(fs.readFileSync(path));
      expect(findImageDecoder(Buffer.from(bytes))?.id).toBe('dicom');
      const probe = await probeDicomForImport(bytes);
      expect(probe).toMatchObject({ kind: 'image', width: COLUMNS, height: ROWS, bitDepth: 16 });
      const image = await decodeDicomImage(bytes);
      const reference = pydicomStored(path);
      if (!lossy) expect(reference).toEqual(stored); // the tool kept the values
      let largest = 0;
      for (let i = 0; i < reference.length; i++)
        largest = Math.max(largest, Math.abs(image.values[i] - reference[i]));
      expect(largest).toBeLessThanOrEqual(lossy ? 2 : 0);
    });
  }
});
