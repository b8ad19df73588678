/** Paths of the committed mitmproxy fixtures (recorded by test/fixtures/mitmproxy-8.1.1/record.sh). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURE_DIR = fileURLToPath(new URL('../../../test/fixtures/mitmproxy-8.1.1/', import.meta.url));
export const FLOWS_MITM = FIXTURE_DIR + 'flows.mitm';

export interface Expected {
  mitmproxy_version: string;
  flow_format_version: number;
  flows: any[];
  filters: Array<{ expr: string; matches: string[]; matches_8_1_1?: string[] }>;
}

export function expected(): Expected {
  return JSON.parse(readFileSync(FIXTURE_DIR + 'expected.json', 'utf8')) as Expected;
}
