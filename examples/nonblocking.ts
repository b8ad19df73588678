/**
 * Async hooks do not block the proxy: while one request waits here, others go on.
 * Run: mitmts -s nonblocking.ts          (mitmproxy: examples/addons/nonblocking.py)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { addon, inject, option, LOG, type HTTPFlow, type Logger } from '@mitmts/sdk';

@addon({ name: 'nonblocking' })
class NonBlocking {
  @option({ type: 'int', default: 5000, help: 'How long each request to a /slow path waits, in milliseconds.' })
  nonblocking_delay!: number;

  constructor(@inject(LOG) private readonly log: Logger) {}

  async request(flow: HTTPFlow): Promise<void> {
    if (!flow.request.path.startsWith('/slow')) return;
    this.log.info(`handle request: ${flow.request.host}${flow.request.path}`);
    await sleep(this.nonblocking_delay);
    this.log.info(`start  request: ${flow.request.host}${flow.request.path}`);
  }
}

export default NonBlocking;
