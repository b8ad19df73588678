import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENTRIES, renderApiReports, reportPath } from '../../scripts/api-report.mjs';

describe('the API report of @mitmts/sdk (sdk/api/*.api.md)', () => {
  it(
    'lists what each entry point exports (else: npm run api:report, and review the diff)',
    { timeout: 120_000 },
    () => {
      const reports = renderApiReports();
      expect(Object.keys(reports)).toEqual(Object.keys(ENTRIES));
      expect(reports.sdk).toMatch(/^function createProxy: /m);
      for (const [entry, text] of Object.entries(reports)) {
        expect(
          readFileSync(reportPath(entry), 'utf8'),
          `sdk/api/${entry}.api.md is stale: run npm run api:report and commit it`,
        ).toBe(text);
      }
    },
  );
});
