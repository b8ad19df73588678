export { parseFilter, matchFilter, matchAll, describeNode, type Filter, type ParseFilterOptions } from './filter.js';
export { FilterError, FilterErrorCode } from './errors.js';
export { OPERATORS, FILTER_HELP, type OperatorSpec, type Matcher, type ArgKind } from './operators.js';
export type { FilterNode } from './parser.js';
export {
  compilePyRegex,
  compileFilterRegex,
  translatePyRegex,
  PyRegexError,
  compilePyPattern,
  compilePyTemplate,
  pyGroup,
  pySub,
  type PyRegexOptions,
  type RegexTester,
  type PyPattern,
  type PyTemplate,
} from './pyregex/index.js';
export { pyRepr, pyStr } from './pyrepr.js';
