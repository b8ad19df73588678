import { ScriptBuildError } from './bundle.js';

/**
 * Turn an error from compiling, evaluating or loading a script into the message users see:
 * `error in script <path>: <file>:<line>:<col>: <message>` followed by the stack frames that
 * point into the script's own files (mitmproxy trims its tracebacks the same way).
 */
export function describeScriptError(path: string, err: unknown, inputs: readonly string[]): string {
  if (err instanceof ScriptBuildError) return `error in script ${path}:\n${err.message}`;
  const message = messageOf(err);
  const frames = userFrames(err, inputs.length > 0 ? inputs : [path]);
  const where = frames.length > 0 ? locationOf(frames[0]!) : null;
  const head = `error in script ${path}: ${where ? `${where}: ` : ''}${message}`;
  return frames.length > 0 ? `${head}\n${frames.join('\n')}` : head;
}

function messageOf(err: unknown): string {
  if (err instanceof Error)
    return err.name === 'Error' || err.name === 'MitmtsError' ? err.message : `${err.name}: ${err.message}`;
  return String(err);
}

/** Stack lines (`    at ...`) of the error or its causes that point into one of `files`. */
export function userFrames(err: unknown, files: readonly string[]): string[] {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const stack = (e as { stack?: unknown }).stack;
    if (typeof stack !== 'string') continue;
    const lines = stack.split('\n').filter((l) => /^\s+at /.test(l) && files.some((f) => l.includes(`${f}:`)));
    if (lines.length > 0) return lines.slice(0, 10);
  }
  return [];
}

/** `/a/b.ts:3:7` from a stack line. */
export function locationOf(frame: string): string | null {
  const m = /\(?((?:\/|[A-Za-z]:\\|file:)[^()]*?:\d+:\d+)\)?\s*$/.exec(frame);
  return m ? m[1]! : null;
}
