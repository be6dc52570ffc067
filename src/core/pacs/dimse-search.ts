/**
 * C-FIND search (study root) with dcmjs-dimse, answering as the QIDO-RS search does
 * (./search.ts): the studies of one page, each with its series and their instance counts, the
 * series filtered by body part. C-FIND has no offset: the study query stops (C-CANCEL) once one
 * study past the page has come, so a large archive is never listed whole.
 */
import dimse from 'dcmjs-dimse';
import {
  pacsSearchInputSchema,
  type PacsConnection,
  type PacsSearchInput,
  type PacsSearchResult,
  type PacsSeries,
  type PacsStudy,
} from '../../shared/pacs-schemas';
import { PacsRequestError } from './dicomweb';
import { associate, dimseServer, type DimseResponse } from './dimse';

const { CFindRequest } = dimse.requests;
const { Status } = dimse.constants;

type Elements = Record<string, unknown>;

/** A naturalized attribute as text: Person Names as their alphabetic form, lists as the first. */
export function elementText(elements: Elements, keyword: string): string {
  let value = elements[keyword];
  if (Array.isArray(value)) value = value[0];
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') {
    const name = (value as { Alphabetic?: unknown }).Alphabetic;
    return typeof name === 'string' ? name : '';
  }
  return typeof value === 'string' || typeof value === 'number' ? String(value).trim() : '';
}

function elementTexts(elements: Elements, keyword: string): string[] {
  const value = elements[keyword];
  const list = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return list
    .flatMap((entry) => String(entry).split('\\'))
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

function elementNumber(elements: Elements, keyword: string): number | null {
  const text = elementText(elements, keyword);
  const value = Number(text);
  return text !== '' && Number.isFinite(value) ? value : null;
}

export type FindLevel = 'STUDY' | 'SERIES' | 'IMAGE';

/**
 * One C-FIND at a level: the matches' identifiers (naturalized). With `max`, the query is
 * cancelled once that many have come.
 */
export async function dimseFind(
  connection: PacsConnection,
  level: FindLevel,
  keys: Elements,
  options: { signal?: AbortSignal; max?: number; what: string },
): Promise<Elements[]> {
  const request =
    level === 'STUDY'
      ? CFindRequest.createStudyFindRequest(keys)
      : level === 'SERIES'
        ? CFindRequest.createSeriesFindRequest(keys)
        : CFindRequest.createImageFindRequest(keys);
  const matches: Elements[] = [];
  let failure: string | null = null;
  let cancelled = false;
  let client: { cancel(request: unknown): void } | null = null;
  request.on('response', (response: DimseResponse) => {
    const status = response.getStatus();
    if (status === Status.Pending || status === 0xff01) {
      const dataset = response.getDataset();
      if (dataset && (options.max === undefined || matches.length < options.max))
        matches.push(dataset.getElements());
      if (options.max !== undefined && matches.length >= options.max && !cancelled && client) {
        cancelled = true;
        // Enough for the page: the server stops with a Cancel status.
        client.cancel(request);
      }
    } else if (status !== Status.Success && status !== Status.Cancel) {
      const comment = response.getErrorComment();
      failure = `status 0x${status.toString(16)}${comment ? ` (${comment})` : ''}`;
    }
  });
  await associate(connection, [request], {
    what: options.what,
    signal: options.signal,
    onClient: (opened) => {
      client = opened;
    },
  });
  if (failure)
    throw new PacsRequestError(
      `${dimseServer(connection)}: ${options.what} failed: the server answered ${failure as string}`,
      0,
    );
  return matches;
}

/** The C-FIND keys of a search at study level (DICOM range matching for the dates). */
export function studyKeys(input: ReturnType<typeof pacsSearchInputSchema.parse>): Elements {
  const keys: Elements = {};
  if (input.patientId) keys.PatientID = input.patientId;
  if (input.patientName) keys.PatientName = input.patientName;
  if (input.studyDateFrom || input.studyDateTo)
    keys.StudyDate = `${input.studyDateFrom ?? ''}-${input.studyDateTo ?? ''}`;
  if (input.modality) keys.ModalitiesInStudy = input.modality;
  if (input.accessionNumber) keys.AccessionNumber = input.accessionNumber;
  return keys;
}

export async function dimseSearchStudies(
  connection: PacsConnection,
  input: PacsSearchInput,
  signal?: AbortSignal,
): Promise<PacsSearchResult> {
  const parsed = pacsSearchInputSchema.parse(input);
  const found = await dimseFind(connection, 'STUDY', studyKeys(parsed), {
    signal,
    // One past the page tells whether there is more.
    max: parsed.offset + parsed.limit + 1,
    what: 'C-FIND of studies',
  });
  // C-FIND has no order: the study date, then the UID, make pages stable between calls.
  found.sort(
    (a, b) =>
      elementText(b, 'StudyDate').localeCompare(elementText(a, 'StudyDate')) ||
      elementText(a, 'StudyInstanceUID').localeCompare(elementText(b, 'StudyInstanceUID')),
  );
  const page = found.slice(parsed.offset, parsed.offset + parsed.limit);
  const studies: PacsStudy[] = [];
  for (const item of page) {
    const studyInstanceUid = elementText(item, 'StudyInstanceUID');
    const seriesFound = await dimseFind(
      connection,
      'SERIES',
      {
        StudyInstanceUID: studyInstanceUid,
        BodyPartExamined: parsed.bodyPart ? parsed.bodyPart.toUpperCase() : '',
      },
      { signal, what: `C-FIND of the series of study ${studyInstanceUid}` },
    );
    let series: PacsSeries[] = seriesFound.map((entry) => ({
      seriesInstanceUid: elementText(entry, 'SeriesInstanceUID'),
      modality: elementText(entry, 'Modality'),
      bodyPart: elementText(entry, 'BodyPartExamined'),
      description: elementText(entry, 'SeriesDescription'),
      seriesNumber: elementNumber(entry, 'SeriesNumber'),
      instances: elementNumber(entry, 'NumberOfSeriesRelatedInstances'),
    }));
    if (parsed.bodyPart) {
      // Servers that ignore the key still get the filter.
      const wanted = parsed.bodyPart.toUpperCase();
      series = series.filter((entry) => entry.bodyPart.toUpperCase() === wanted);
      if (series.length === 0) continue;
    }
    series.sort(
      (a, b) =>
        (a.seriesNumber ?? 0) - (b.seriesNumber ?? 0) ||
        a.seriesInstanceUid.localeCompare(b.seriesInstanceUid),
    );
    studies.push({
      studyInstanceUid,
      patientId: elementText(item, 'PatientID'),
      patientName: elementText(item, 'PatientName'),
      studyDate: elementText(item, 'StudyDate'),
      accessionNumber: elementText(item, 'AccessionNumber'),
      description: elementText(item, 'StudyDescription'),
      modalities: elementTexts(item, 'ModalitiesInStudy'),
      instances: elementNumber(item, 'NumberOfStudyRelatedInstances'),
      series,
    });
  }
  return {
    studies,
    offset: parsed.offset,
    limit: parsed.limit,
    more: found.length > parsed.offset + parsed.limit,
  };
}
