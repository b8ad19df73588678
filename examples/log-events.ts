/**
 * Logging from an addon, at every level (alert: as urgent as info, but shown prominently).
 * Run: mitmts -s log-events.ts           (mitmproxy: examples/addons/log-events.py)
 */
import { inject, LOG, type Logger } from '@mitmts/sdk';

class LogEvents {
  constructor(@inject(LOG) private readonly log: Logger) {}

  load(): void {
    this.log.info('This is some informative text.');
    this.log.warn('This is a warning.');
    this.log.error('This is an error.');
    this.log.alert('This is an alert. It has the same urgency as info, but will also pop up in the status bar.');
  }
}

export default LogEvents;
