/** The BMP codec lives with its format module; this path stays for modules and tests that read it. */
export { bmpHeader, decodeBmp, isBmp, type RawImage } from '../formats/bmp';
