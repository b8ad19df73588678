import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ScriptEvent, ScriptLoader } from '../src/index.js';

/** A fresh directory outside the repository (no node_modules above it). */
export function tempDir(): string {
  return realpathSync(mkdtempSync(join(tmpdir(), 'mitmts-script-')));
}

/** Write a file, creating its directory. */
export function put(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, text);
  return p;
}

/** The next event for `path` matching `type`, or a timeout error naming what was awaited. */
export function nextEvent(
  loader: ScriptLoader,
  path: string,
  type: ScriptEvent['type'] | 'settled' = 'settled',
  ms = 10_000,
): Promise<ScriptEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`No ${type} event for ${path} within ${ms} ms.`));
    }, ms);
    const off = loader.onEvent((e) => {
      if (e.path !== path) return;
      if (type === 'settled' ? e.type === 'removed' : e.type !== type) return;
      clearTimeout(timer);
      off();
      resolve(e);
    });
  });
}

/** A script source declaring an addon that logs its lifecycle with a version tag. */
export function lifecycleScript(tag: string, extra = ''): string {
  return `
import { addon, hook, inject, option, LOG, type HTTPFlow, type Logger, type Loader } from '@mitmts/sdk';

@addon({ name: 'life' })
export class Life {
  @option({ type: 'str', default: 'default', help: 'A value the user sets.' }) life_value!: string;
  constructor(@inject(LOG) readonly log: Logger) {}
  load(_l: Loader): void { this.log.info('${tag} load'); }
  configure(updated: ReadonlySet<string>): void { if (updated.has('life_value')) this.log.info('${tag} configure ' + this.life_value); }
  running(): void { this.log.info('${tag} running'); }
  done(): void { this.log.info('${tag} done'); }
  @hook('request') onRequest(flow: HTTPFlow): void { flow.request.headers.set('x-version', '${tag}'); }
  ${extra}
}
export default Life;
`;
}
