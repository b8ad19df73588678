/** The path of docs/options.md. */
export const OPTIONS_DOC: string;
/** The text of docs/options.md for the default build as it is now. */
export function renderOptions(): Promise<string>;
