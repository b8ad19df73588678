export * from './query.js';
export { flowRow, sortValue, compareRows, isAfter, encodeCursor, decodeCursor, CursorError, flowBytes, bodyRegex, bodyHits, type Cursor } from './row.js';
export { MemoryFlowIndex, toFilter, windowLimit, type KeptFlows } from './memory.js';
export { regexLiterals, type LiteralBranch, type LiteralPattern } from './literals.js';
