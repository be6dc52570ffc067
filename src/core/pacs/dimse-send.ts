/**
 * C-STORE of one SEG per association (dcmjs-dimse), behind send.ts's SegStore: the verdict is
 * the C-STORE-RSP status (0000 stored; B000, B006, B007 stored with a warning; anything else
 * failed, with the status and the server's comment). The SEG goes through a temporary Part 10
 * file, which the library reads as it sends.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dimse from 'dcmjs-dimse';
import type { PacsConnection } from '../../shared/pacs-schemas';
import { PacsCancelledError } from './dicomweb';
import { associate, type DimseResponse } from './dimse';
import type { SegStore } from './send';

const { CStoreRequest } = dimse.requests;
const WARNINGS = new Set([0xb000, 0xb006, 0xb007]);

export function cStoreVerdict(
  status: number | null,
  comment: string,
): { status: 'stored' | 'warning' | 'failed'; message: string } {
  const text = status === null ? '' : `0x${status.toString(16).padStart(4, '0')}`;
  const why = comment ? `: ${comment}` : '';
  if (status === 0) return { status: 'stored', message: 'stored' };
  if (status !== null && WARNINGS.has(status))
    return { status: 'warning', message: `stored with a warning (status ${text}${why})` };
  if (status === null) return { status: 'failed', message: 'no C-STORE answer' };
  return { status: 'failed', message: `refused (status ${text}${why})` };
}

export function cStoreStore(connection: PacsConnection): SegStore {
  return {
    connection: connection.name,
    async store(bytes, sopInstanceUid, imageName, signal) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-cstore-'));
      const file = path.join(dir, `${sopInstanceUid}.dcm`);
      try {
        fs.writeFileSync(file, bytes);
        const request = new CStoreRequest(file);
        let status: number | null = null;
        let comment = '';
        request.on('response', (response: DimseResponse) => {
          status = response.getStatus();
          comment = response.getErrorComment() ?? '';
        });
        try {
          await associate(connection, [request], {
            what: `C-STORE of the SEG of ${imageName}`,
            signal,
          });
        } catch (error) {
          if (error instanceof PacsCancelledError) throw error;
          return { status: 'failed', message: (error as Error).message };
        }
        return cStoreVerdict(status, comment);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
