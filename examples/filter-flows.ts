/**
 * Log the flows that match a filter expression given as an option.
 * Run: mitmts -s filter-flows.ts --set flowfilter='~u /api/ & ~c 200'
 * (mitmproxy: examples/addons/filter-flows.py)
 */
import {
  addon,
  inject,
  option,
  parseFilter,
  FilterError,
  LOG,
  OptionsError,
  type Filter,
  type HTTPFlow,
  type Logger,
} from '@mitmts/sdk';

@addon({ name: 'filter' })
class FilterFlows {
  @option({ type: 'str', default: '', help: 'Check that flow matches filter.' })
  flowfilter!: string;

  private filter: Filter | null = null;

  constructor(@inject(LOG) private readonly log: Logger) {}

  configure(updated: ReadonlySet<string>): void {
    if (!updated.has('flowfilter')) return;
    try {
      this.filter = this.flowfilter ? parseFilter(this.flowfilter) : null;
    } catch (err) {
      if (err instanceof FilterError) throw new OptionsError(`flowfilter: ${err.message}`);
      throw err;
    }
  }

  response(flow: HTTPFlow): void {
    if (this.filter?.match(flow)) {
      this.log.info(
        `Flow matches filter: ${flow.request.method} ${flow.request.prettyUrl} -> ${flow.response!.statusCode}`,
      );
    }
  }
}

export default FilterFlows;
