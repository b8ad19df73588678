import { OptionsError } from '../kernel/errors.js';
import { TYPE_DESCRIPTIONS, type OptionSpec, type OptionValue } from './types.js';

/**
 * Check a typed value (from code or from config.yaml) against an option's spec and return the
 * value to store. Errors name the option, the value and the expected type.
 */
export function checkValue(spec: OptionSpec, value: unknown, where = ''): OptionValue {
  const bad = (expected = TYPE_DESCRIPTIONS[spec.type]): never => {
    throw new OptionsError(
      `Option ${spec.name}${where}: expected ${expected}, got ${show(value)}.`,
      'MITMTS_ERR_OPTION_TYPE',
    );
  };
  switch (spec.type) {
    case 'bool':
      if (typeof value !== 'boolean') bad();
      return value as boolean;
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value)) bad();
      return checkRange(spec, value as number, where);
    case 'int?':
      if (value === null) return null;
      if (typeof value !== 'number' || !Number.isInteger(value)) bad();
      return checkRange(spec, value as number, where);
    case 'str':
      if (typeof value !== 'string') bad();
      checkChoice(spec, value as string);
      return value as string;
    case 'str?':
      if (value === null) return null;
      if (typeof value !== 'string') bad();
      checkChoice(spec, value as string);
      return value as string;
    case 'str[]': {
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) bad();
      const list = Object.freeze([...(value as string[])]);
      for (const v of list) checkChoice(spec, v);
      return list;
    }
  }
}

function checkRange(spec: OptionSpec, value: number, where: string): number {
  const { min, max } = spec;
  if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
    throw new OptionsError(
      `Option ${spec.name}${where}: ${value} is out of range: expected ${rangeText(spec)}.`,
      'MITMTS_ERR_OPTION_RANGE',
    );
  }
  return value;
}

/** `an integer from 0 to 4`, `an integer of at least 1`, ... (for errors and `--options`). */
export function rangeText(spec: Pick<OptionSpec, 'min' | 'max'>): string {
  const { min, max } = spec;
  if (min !== undefined && max !== undefined) return `an integer from ${min} to ${max}`;
  if (min !== undefined) return `an integer of at least ${min}`;
  if (max !== undefined) return `an integer of at most ${max}`;
  return 'an integer';
}

function checkChoice(spec: OptionSpec, value: string): void {
  if (spec.choices && !spec.choices.includes(value)) {
    throw new OptionsError(
      `Option ${spec.name}: ${show(value)} is not one of the allowed values: ${spec.choices.join(', ')}.`,
      'MITMTS_ERR_OPTION_CHOICE',
    );
  }
}

/**
 * Parse `--set` / `set` command strings into a typed value, mitmproxy's rules:
 * `values` holds every value given for this option (`--set name=a --set name=b`), `undefined`
 * entries stand for a bare `--set name`.
 */
export function parseValues(
  spec: OptionSpec,
  values: ReadonlyArray<string | undefined>,
  current: OptionValue,
  where = '',
): OptionValue {
  if (spec.type === 'str[]') {
    const list = values.filter((v): v is string => v !== undefined);
    return checkValue(spec, list, where);
  }
  if (values.length > 1) {
    throw new OptionsError(
      `Option ${spec.name}: got ${values.length} values (${values.map((v) => show(v ?? '')).join(', ')}), but it takes one (${TYPE_DESCRIPTIONS[spec.type]}).`,
      'MITMTS_ERR_OPTION_TYPE',
    );
  }
  const raw = values[0];
  switch (spec.type) {
    case 'bool':
      if (raw === undefined || raw.toLowerCase() === 'true') return true;
      if (raw.toLowerCase() === 'false') return false;
      if (raw.toLowerCase() === 'toggle') return !current;
      throw new OptionsError(
        `Option ${spec.name}: expected bool (true, false or toggle), got ${show(raw)}.`,
        'MITMTS_ERR_OPTION_TYPE',
      );
    case 'int':
    case 'int?': {
      if (raw === undefined) {
        if (spec.type === 'int?') return null;
        throw new OptionsError(
          `Option ${spec.name} needs a value: --set ${spec.name}=<int>.`,
          'MITMTS_ERR_OPTION_TYPE',
        );
      }
      if (!/^[-+]?\d+$/.test(raw.trim())) {
        throw new OptionsError(
          `Option ${spec.name}: expected ${TYPE_DESCRIPTIONS[spec.type]}, got ${show(raw)}.`,
          'MITMTS_ERR_OPTION_TYPE',
        );
      }
      return checkValue(spec, Number.parseInt(raw, 10), where);
    }
    case 'str':
      if (raw === undefined) {
        throw new OptionsError(`Option ${spec.name} is required: --set ${spec.name}=<str>.`, 'MITMTS_ERR_OPTION_TYPE');
      }
      return checkValue(spec, raw, where);
    case 'str?':
      return raw === undefined ? null : checkValue(spec, raw, where);
  }
}

export function valuesEqual(a: OptionValue, b: OptionValue): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  return a === b;
}

export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `[${value.map(show).join(', ')}]`;
  if (typeof value === 'object') return 'an object';
  return String(value);
}
