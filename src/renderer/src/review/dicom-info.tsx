/** What the viewer shows of a DICOM image's kept tags, and lesion areas in mm² where spacing is known. */
import type { DicomDetail } from '../../../shared/contract-review';

/** Area in mm² of `areaPercent` % of a width x height image with [row, column] spacing in mm. */
export function lesionAreaMm2(
  areaPercent: number,
  width: number,
  height: number,
  spacing: [number, number],
): string {
  const pixels = (areaPercent / 100) * width * height;
  return (pixels * spacing[0] * spacing[1]).toFixed(1);
}

export function DicomFacts({ dicom }: { dicom: DicomDetail }) {
  const parts = [
    dicom.patientId && `Patient ${dicom.patientId}`,
    dicom.studyDate,
    [dicom.modality, dicom.viewPosition].filter(Boolean).join(' '),
    dicom.pixelSpacing && `${dicom.pixelSpacing[0]}×${dicom.pixelSpacing[1]} mm`,
  ].filter(Boolean);
  return (
    <p className="muted small" data-testid="dicom-facts">
      {parts.join(' · ')}
    </p>
  );
}
