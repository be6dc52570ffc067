/** A room of src/: path prefixes below src/ and the rooms its files may import. */
export interface Room {
  files: string[];
  mayImport: string[];
}

export declare const srcRooms: Record<string, Room>;
