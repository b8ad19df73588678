export { ServerPlayback } from './serverplayback.js';
export { matchKey, type MatchOptions } from './matchkey.js';
import { ServerPlayback } from './serverplayback.js';
export default ServerPlayback;

declare module '@mitmts/sdk' {
  interface CommandSignatures {
    'replay.server': (flows: import('@mitmts/sdk').Flow[]) => void;
    'replay.server.add': (flows: import('@mitmts/sdk').Flow[]) => void;
    'replay.server.file': (path: string) => void;
    'replay.server.stop': () => void;
    'replay.server.count': () => number;
  }
}
