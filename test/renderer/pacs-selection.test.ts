/** The PACS dialog's pure parts: retrieve targets chosen by study or series, and the search query. */
import { describe, expect, it } from 'vitest';
import { toggled, type Selection } from '../../src/renderer/src/pacs/StudyTable';
import { EMPTY_SEARCH, searchInput } from '../../src/renderer/src/pacs/SearchForm';

describe('PACS retrieve targets', () => {
  it('a study tick replaces the ticks of its own series, and leaves other studies alone', () => {
    let selection: Selection = new Map();
    selection = toggled(
      selection,
      { studyInstanceUid: '1.2', seriesInstanceUid: '1.2.1', label: 'a' },
      true,
    );
    selection = toggled(
      selection,
      { studyInstanceUid: '1.3', seriesInstanceUid: '1.3.1', label: 'b' },
      true,
    );
    expect([...selection.keys()]).toEqual(['1.2/1.2.1', '1.3/1.3.1']);
    selection = toggled(selection, { studyInstanceUid: '1.2', label: 'study' }, true);
    expect([...selection.keys()]).toEqual(['1.3/1.3.1', '1.2']);
    selection = toggled(selection, { studyInstanceUid: '1.2', label: 'study' }, false);
    expect([...selection.keys()]).toEqual(['1.3/1.3.1']);
  });

  it('the search leaves empty fields out and trims the rest', () => {
    expect(
      searchInput(
        'pacs',
        { ...EMPTY_SEARCH, patientId: ' P1 ', bodyPart: 'CHEST' },
        { offset: 25, limit: 25 },
      ),
    ).toEqual({ name: 'pacs', offset: 25, limit: 25, patientId: 'P1', bodyPart: 'CHEST' });
  });
});
