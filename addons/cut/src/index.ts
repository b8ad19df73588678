export { Cut } from './cut.js';
export { extract, cutText, type CutValue } from './extract.js';
export { toCsv, toJson, type CutJson } from './formats.js';
import { Cut } from './cut.js';
export default Cut;

declare module '@mitmts/sdk' {
  interface CommandSignatures {
    cut: (flows: import('@mitmts/sdk').Flow[], cuts: string[]) => Array<Array<string | Buffer>>;
    'cut.save': (flows: import('@mitmts/sdk').Flow[], cuts: string[], path: string) => void;
  }
}
