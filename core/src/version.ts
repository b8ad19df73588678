/** This package's version (kept equal to core/package.json's by a test). */
export const VERSION = '0.1.0';
