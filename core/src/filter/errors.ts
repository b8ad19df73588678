/** Stable codes of {@link FilterError}s. */
export const FilterErrorCode = {
  /** The expression is empty. */
  EMPTY: 'MITMTS_ERR_FILTER_EMPTY',
  /** Malformed syntax: a missing argument, operand, parenthesis or quote, or leftover input. */
  SYNTAX: 'MITMTS_ERR_FILTER_SYNTAX',
  /** `~name` is not a filter operator. */
  UNKNOWN_OPERATOR: 'MITMTS_ERR_FILTER_UNKNOWN_OPERATOR',
  /** A regex argument is not a valid (Python) regular expression. */
  INVALID_REGEX: 'MITMTS_ERR_FILTER_REGEX',
} as const;

export type FilterErrorCode = (typeof FilterErrorCode)[keyof typeof FilterErrorCode];

/**
 * A filter expression that does not parse (mitmproxy raises ValueError for these). The message
 * says where and what was expected, e.g.
 * `Invalid filter expression at position 3: expected a regex argument after ~b`.
 */
export class FilterError extends Error {
  /** One of {@link FilterErrorCode}; assert on this, not on the message. */
  readonly code: FilterErrorCode;
  /** 0-based index into {@link expression} where the problem was found. */
  readonly position: number;
  /** The expression that failed. */
  readonly expression: string;
  /** The problem without the position prefix, e.g. `expected a regex argument after ~b`. */
  readonly detail: string;

  constructor(code: FilterErrorCode, expression: string, position: number, detail: string) {
    super(
      code === FilterErrorCode.EMPTY
        ? 'Empty filter expression'
        : `Invalid filter expression at position ${position}: ${detail}`,
    );
    this.name = 'FilterError';
    this.code = code;
    this.position = position;
    this.expression = expression;
    this.detail = detail;
  }

  /** The expression with a caret under the error position (for CLI output). */
  pointer(): string {
    return `${this.expression}\n${' '.repeat(this.position)}^`;
  }
}
