export { Export } from './export.js';
export { FORMATS, bytesToDisplay, type Exporter } from './formats.js';
export { curlCommand, type CurlOptions } from './curl.js';
export { httpieCommand } from './httpie.js';
export { fetchCommand } from './fetch.js';
export { pythonRequestsCommand } from './python.js';
export { raw, rawRequest, rawResponse } from './raw.js';
export { shQuote, printfBytes } from './shell.js';
import { Export } from './export.js';
export default Export;

declare module '@mitmts/sdk' {
  interface CommandSignatures {
    'export.formats': () => string[];
    export: (format: string, flow: import('@mitmts/sdk').Flow) => string;
    'export.file': (format: string, flow: import('@mitmts/sdk').Flow, path: string) => void;
  }
}
