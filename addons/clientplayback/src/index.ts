export { ClientPlayback } from './clientplayback.js';
export { replayProblem } from './check.js';
import { ClientPlayback } from './clientplayback.js';
export default ClientPlayback;

declare module '@mitmts/sdk' {
  interface CommandSignatures {
    'replay.client': (flows: import('@mitmts/sdk').Flow[]) => void;
    'replay.client.file': (path: string) => void;
    'replay.client.count': () => number;
    'replay.client.stop': () => void;
  }
}
