/**
 * __name__: a mitmts script. Run it with `mitmts -s __name__.ts`; it reloads on every save.
 *
 * A script exports its addons: `export default` a class (constructed with injection) or an
 * object, an array of them, or `export const addons = [...]`. Hooks are typed: `@hook('response')`
 * on a method whose parameters do not fit the hook does not compile.
 */
import { addon, hook, inject, option, LOG, type HTTPFlow, type Logger } from '@mitmts/sdk';

@addon({ name: '__name__' })
export class __Name__ {
  @option({ type: 'str', default: 'hello', help: 'Value of the x-__name__ header added to every response.' })
  __name_snake___header!: string;

  /** Responses seen so far. */
  count = 0;

  // Scripts are compiled by esbuild, which emits no type metadata: inject by token.
  constructor(@inject(LOG) private readonly log: Logger) {}

  @hook('response')
  addHeader(flow: HTTPFlow): void {
    if (!flow.response) return;
    this.count++;
    flow.response.headers.set('x-__name__', this.__name_snake___header);
    this.log.debug(`${flow.request.prettyUrl}: x-__name__ set (${this.count} so far)`);
  }
}

export default __Name__;
