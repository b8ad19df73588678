/** `mitmts flows` in process, for tests: exit code, output, and the output's JSON lines. */
import { PassThrough } from 'node:stream';
import { runFlowsCommand } from '../../src/io/index.js';

export async function runFlows(
  argv: string[],
  stdin?: NodeJS.ReadableStream,
): Promise<{ code: number; out: string; err: string; lines: any[] }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  out.on('data', (c: Buffer) => o.push(c));
  err.on('data', (c: Buffer) => e.push(c));
  const code = await runFlowsCommand(argv, out, err, stdin);
  const text = Buffer.concat(o).toString('utf8');
  let lines: any[] = [];
  try {
    lines = text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    lines = [];
  }
  return { code, out: text, err: Buffer.concat(e).toString('utf8'), lines };
}
