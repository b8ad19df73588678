/**
 * @mitmts/addon-script: `-s` scripts with hot reload (option `scripts`, command `script.run`).
 */
import { ScriptLoader } from './loader.js';

export { ScriptLoader, resolveScriptPath, resolveScriptPaths, type ScriptListener } from './loader.js';
export type { ScriptEvent } from './script.js';
export { replaySequence } from './replay.js';
export default ScriptLoader;
