/**
 * The flow query interface and what implementations of it share (for the store addon and
 * anything else that indexes flows: rows, sort values, cursors, body search, regex literals).
 */
export * from './query.js';
export {
  flowRow,
  sortValue,
  encodeCursor,
  decodeCursor,
  isBefore,
  CursorError,
  bodyRegex,
  bodyHits,
  type Cursor,
} from './row.js';
export { toFilter, windowLimit, windowOffset, countBefore, scanBudget } from './memory.js';
export { regexLiterals, type LiteralBranch, type LiteralPattern } from './literals.js';
