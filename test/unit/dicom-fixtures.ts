/**
 * DICOM fixtures made by tools that are not the code under test: pydicom (Debian's
 * python3-pydicom, through test/fixtures/dicom/make_dicom.py) writes the files, dcmtk transcodes
 * them (dcmconv, dcmcrle, dcmcjpeg, dcmcjpls). Everything goes to temp folders.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const PYTHON = '/usr/bin/python3';
const MAKER = path.resolve(import.meta.dirname, '../fixtures/dicom/make_dicom.py');

export interface SegSpec {
  kind: 'seg';
  name: string;
  rows: number;
  columns: number;
  /** 0/1 per pixel, frame after frame. */
  values: ArrayLike<number>;
  /** The source SOP Instance UID of each frame. */
  references: string[];
  study?: string;
  series?: string;
}

export interface DicomSpec {
  kind?: 'image';
  /** File name inside the fixture folder. */
  name: string;
  rows: number;
  columns: number;
  /** Stored values (rows*columns*samples*frames), row-major. */
  values: ArrayLike<number>;
  bitsAllocated?: 8 | 16;
  bitsStored?: number;
  signed?: boolean;
  photometric?: string;
  samples?: number;
  frames?: number;
  sopClass?: string;
  sopInstance?: string;
  study?: string;
  series?: string;
  tags?: Record<string, unknown>;
  modalityLut?: { first: number; bits: number; data: number[]; type?: string };
  voiLuts?: { first: number; bits: number; data: number[]; explanation?: string }[];
  transferSyntax?: 'explicit' | 'j2k';
}

export function tempDir(prefix = 'qataseg-dicom-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Writes the files with pydicom into `dir`; returns their paths in order. */
export function writeDicom(dir: string, specs: (DicomSpec | SegSpec)[]): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-dicom-spec-'));
  const outs: string[] = [];
  const json = specs.map((spec, i) => {
    const raw = path.join(work, `${i}.raw`);
    fs.writeFileSync(raw, Buffer.from(Int32Array.from(spec.values).buffer));
    const out = path.join(dir, spec.name);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    outs.push(out);
    const { values: _values, name: _name, ...rest } = spec;
    return { ...rest, out, raw };
  });
  const specFile = path.join(work, 'spec.json');
  fs.writeFileSync(specFile, JSON.stringify(json));
  execFileSync(PYTHON, [MAKER, specFile], { stdio: 'pipe' });
  fs.rmSync(work, { recursive: true, force: true });
  return outs;
}

/** Runs a dcmtk tool: `tool ...args input output`. */
export function dcmtk(tool: string, args: string[], input: string, output: string): string {
  execFileSync(tool, [...args, input, output], { stdio: 'pipe' });
  return output;
}

/** A gradient with structure in both directions: values 0..max. */
export function gradient(rows: number, columns: number, max: number, offset = 0): Int32Array {
  const values = new Int32Array(rows * columns);
  for (let y = 0; y < rows; y++)
    for (let x = 0; x < columns; x++)
      values[y * columns + x] = offset + ((x * 97 + y * 31 + ((x * y) % 13)) % (max + 1));
  return values;
}

/** Runs a short Python program with pydicom and numpy; returns its stdout. */
export function python(program: string, ...args: string[]): string {
  return execFileSync(PYTHON, ['-c', program, ...args], { encoding: 'utf8' });
}
