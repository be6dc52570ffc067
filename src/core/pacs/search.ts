/**
 * QIDO-RS search: studies matching the query, one page at a time, each with its series and their
 * instance counts. Body part is a series attribute (Body Part Examined), so it filters the series
 * of each study on the page (a study with none left is dropped from that page).
 */
import {
  pacsSearchInputSchema,
  type PacsSearchInput,
  type PacsSearchResult,
  type PacsSeries,
  type PacsStudy,
} from '../../shared/pacs-schemas';
import { call, type DicomwebSession } from './dicomweb';

type DicomJson = Record<string, { vr?: string; Value?: unknown[] } | undefined>;

/** The first value of a DICOM JSON attribute as text ('' when absent). */
export function jsonText(item: DicomJson, tag: string): string {
  const value = item[tag]?.Value?.[0];
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') {
    // Person Name: { Alphabetic, Ideographic, Phonetic }.
    const name = (value as { Alphabetic?: unknown }).Alphabetic;
    return typeof name === 'string' ? name : '';
  }
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

function jsonNumber(item: DicomJson, tag: string): number | null {
  const text = jsonText(item, tag);
  const value = Number(text);
  return text !== '' && Number.isFinite(value) ? value : null;
}

function jsonTexts(item: DicomJson, tag: string): string[] {
  return (item[tag]?.Value ?? []).map(String).filter((value) => value !== '');
}

export const TAGS = {
  StudyDate: '00080020',
  AccessionNumber: '00080050',
  ModalitiesInStudy: '00080061',
  Modality: '00080060',
  StudyDescription: '00081030',
  SeriesDescription: '0008103E',
  PatientName: '00100010',
  PatientID: '00100020',
  BodyPartExamined: '00180015',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SeriesNumber: '00200011',
  SOPInstanceUID: '00080018',
  NumberOfStudyRelatedInstances: '00201208',
  NumberOfSeriesRelatedInstances: '00201209',
} as const;

/** The QIDO-RS query parameters of a search (DICOM keywords; dates as a range). */
export function studyQuery(input: ReturnType<typeof pacsSearchInputSchema.parse>) {
  const query: Record<string, string | number> = {};
  if (input.patientId) query.PatientID = input.patientId;
  if (input.patientName) query.PatientName = input.patientName;
  if (input.studyDateFrom || input.studyDateTo)
    query.StudyDate = `${input.studyDateFrom ?? ''}-${input.studyDateTo ?? ''}`;
  if (input.modality) query.ModalitiesInStudy = input.modality;
  if (input.accessionNumber) query.AccessionNumber = input.accessionNumber;
  // One field only: dicomweb-client percent-encodes a comma list, which servers (Orthanc 1.10)
  // then read as one unknown name. The others asked for are in QIDO-RS's defaults.
  query.includefield = 'StudyDescription';
  query.offset = input.offset;
  // One past the page tells whether there is more.
  query.limit = input.limit + 1;
  return query;
}

export async function searchStudies(
  session: DicomwebSession,
  input: PacsSearchInput,
  signal?: AbortSignal,
): Promise<PacsSearchResult> {
  const parsed = pacsSearchInputSchema.parse(input);
  const found = (await call(session, 'searching studies (QIDO-RS)', signal, (request) =>
    session.client.searchForStudies({ queryParams: studyQuery(parsed), request }),
  )) as DicomJson[];
  const page = found.slice(0, parsed.limit);
  const studies: PacsStudy[] = [];
  for (const item of page) {
    const studyInstanceUid = jsonText(item, TAGS.StudyInstanceUID);
    const seriesFound = (await call(
      session,
      `listing the series of study ${studyInstanceUid}`,
      signal,
      (request) =>
        session.client.searchForSeries({
          studyInstanceUID: studyInstanceUid,
          queryParams: {
            // Body Part Examined is not a default series field (see studyQuery); matching on it
            // also lets the server filter, and the check below covers servers that do not.
            includefield: 'BodyPartExamined',
            ...(parsed.bodyPart ? { BodyPartExamined: parsed.bodyPart.toUpperCase() } : {}),
          },
          request,
        }),
    )) as DicomJson[];
    let series: PacsSeries[] = seriesFound.map((entry) => ({
      seriesInstanceUid: jsonText(entry, TAGS.SeriesInstanceUID),
      modality: jsonText(entry, TAGS.Modality),
      bodyPart: jsonText(entry, TAGS.BodyPartExamined),
      description: jsonText(entry, TAGS.SeriesDescription),
      seriesNumber: jsonNumber(entry, TAGS.SeriesNumber),
      instances: jsonNumber(entry, TAGS.NumberOfSeriesRelatedInstances),
    }));
    if (parsed.bodyPart) {
      const wanted = parsed.bodyPart.toUpperCase();
      series = series.filter((entry) => entry.bodyPart.toUpperCase() === wanted);
      if (series.length === 0) continue;
    }
    series.sort((a, b) => (a.seriesNumber ?? 0) - (b.seriesNumber ?? 0));
    studies.push({
      studyInstanceUid,
      patientId: jsonText(item, TAGS.PatientID),
      patientName: jsonText(item, TAGS.PatientName),
      studyDate: jsonText(item, TAGS.StudyDate),
      accessionNumber: jsonText(item, TAGS.AccessionNumber),
      description: jsonText(item, TAGS.StudyDescription),
      modalities: jsonTexts(item, TAGS.ModalitiesInStudy),
      instances: jsonNumber(item, TAGS.NumberOfStudyRelatedInstances),
      series,
    });
  }
  return {
    studies,
    offset: parsed.offset,
    limit: parsed.limit,
    more: found.length > parsed.limit,
  };
}
