/** The flags between `node` and the script on the mitmts bin's shebang line (none: `[]`). */
export function mitmtsNodeFlags(): string[];
