/** The editor's tools by name (a leaf: the review store and the action registry both need it). */
export type Tool =
  | 'brush'
  | 'eraser'
  | 'polygonAdd'
  | 'polygonCut'
  | 'fill'
  | 'keepComponent'
  | 'dropComponent'
  | 'pan';
