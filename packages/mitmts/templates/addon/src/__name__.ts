import { addon, command, hook, inject, option, LOG, OptionsError, type HTTPFlow, type Logger } from '@mitmts/sdk';

/**
 * __name__: tags responses with a header (option `__name_snake__`), and counts them
 * (command `__name__.count`). Replace the body with your feature; keep the shape:
 * options declared with help text, validated in `configure`, hooks that return early.
 */
@addon({ name: '__name__' })
export class __Name__ {
  @option({
    type: 'str?',
    default: null,
    help: 'Add the header x-__name__ with this value to every response. Unset: do nothing.',
  })
  __name_snake__!: string | null;

  private count = 0;

  constructor(@inject(LOG) private readonly log: Logger) {}

  configure(updated: ReadonlySet<string>): void {
    if (!updated.has('__name_snake__') || this.__name_snake__ === null) return;
    if (/[\r\n]/.test(this.__name_snake__)) {
      throw new OptionsError(
        `__name_snake__: a header value cannot contain line breaks, got ${JSON.stringify(this.__name_snake__)}.`,
      );
    }
  }

  @hook('response')
  tag(flow: HTTPFlow): void {
    if (this.__name_snake__ === null || !flow.response) return;
    flow.response.headers.set('x-__name__', this.__name_snake__);
    this.count++;
  }

  @command('__name__.count', { help: 'How many responses were tagged.', returns: 'int' })
  tagged(): number {
    return this.count;
  }
}
