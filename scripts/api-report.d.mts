/** Entry points of @mitmts/sdk and their declaration files. */
export declare const ENTRIES: Readonly<Record<string, string>>;
/** Where an entry point's report is kept. */
export declare function reportPath(entry: string): string;
/** Every entry point's report, entry name to Markdown text. */
export declare function renderApiReports(): Record<string, string>;
