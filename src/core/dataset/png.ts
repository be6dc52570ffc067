/** The PNG codec lives with its format module; this path stays for modules and tests that read it. */
export { decodeGray8Png, isPng, readPngHeader, type PngHeader } from '../formats/png';
