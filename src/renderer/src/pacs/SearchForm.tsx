/** The PACS dialog's search fields: patient ID or name, study dates, modality, accession, body part. */
import type { PacsSearchInput } from '../../../shared/pacs-schemas';

export interface SearchFields {
  patientId: string;
  patientName: string;
  studyDateFrom: string;
  studyDateTo: string;
  modality: string;
  accessionNumber: string;
  bodyPart: string;
}

export const EMPTY_SEARCH: SearchFields = {
  patientId: '',
  patientName: '',
  studyDateFrom: '',
  studyDateTo: '',
  modality: '',
  accessionNumber: '',
  bodyPart: '',
};

/** The query for `pacs.search`: empty fields are left out (they match everything). */
export function searchInput(
  name: string,
  fields: SearchFields,
  page: { offset: number; limit: number },
): PacsSearchInput {
  const input: PacsSearchInput = { name, ...page };
  for (const key of Object.keys(fields) as (keyof SearchFields)[]) {
    const value = fields[key].trim();
    if (value) input[key] = value;
  }
  return input;
}

const FIELDS: { key: keyof SearchFields; label: string; type?: string; placeholder?: string }[] = [
  { key: 'patientId', label: 'Patient ID' },
  { key: 'patientName', label: 'Patient name', placeholder: 'Doe* (wildcards * ?)' },
  { key: 'studyDateFrom', label: 'Study date from', type: 'date' },
  { key: 'studyDateTo', label: 'to', type: 'date' },
  { key: 'modality', label: 'Modality', placeholder: 'CR, DX' },
  { key: 'accessionNumber', label: 'Accession' },
  { key: 'bodyPart', label: 'Body part', placeholder: 'CHEST' },
];

export function SearchForm({
  fields,
  onChange,
}: {
  fields: SearchFields;
  onChange: (fields: SearchFields) => void;
}) {
  return (
    <fieldset className="pacs-search" data-testid="pacs-search-form">
      <legend>Search</legend>
      <div className="pacs-search-grid">
        {FIELDS.map(({ key, label, type, placeholder }) => (
          <label key={key}>
            {label}
            <input
              type={type ?? 'text'}
              data-testid={`pacs-search-${key}`}
              value={fields[key]}
              placeholder={placeholder}
              spellCheck={false}
              onChange={(event) => onChange({ ...fields, [key]: event.target.value })}
            />
          </label>
        ))}
      </div>
    </fieldset>
  );
}
