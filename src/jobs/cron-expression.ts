import cron from 'node-cron';

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const SECOND: FieldSpec = { name: 'second', min: 0, max: 59 };
const FIVE_FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
  },
  // 7 is Sunday too, as in Vixie cron.
  { name: 'day of week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

function value(text: string, spec: FieldSpec): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const named = spec.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named < 0) return undefined;
  return spec.min === 1 ? named + 1 : named;
}

function fieldProblem(field: string, spec: FieldSpec): string | undefined {
  for (const item of field.split(',')) {
    const [range = '', step, extra] = item.split('/');
    if (extra !== undefined) return `${spec.name} "${item}" has more than one "/"`;
    if (step !== undefined) {
      const size = spec.max - spec.min + 1;
      if (!/^\d+$/.test(step) || Number(step) < 1 || Number(step) > size) {
        return `${spec.name} step "/${step}" must be 1..${size}`;
      }
    }
    if (range === '*') continue;
    const [from = '', to, more] = range.split('-');
    if (more !== undefined) return `${spec.name} "${item}" is not a range`;
    const a = value(from, spec);
    const b = to === undefined ? a : value(to, spec);
    if (a === undefined || b === undefined)
      return `${spec.name} "${item}" is not a number${spec.names ? ' or name' : ''}`;
    if (a < spec.min || a > spec.max || b < spec.min || b > spec.max) {
      return `${spec.name} "${item}" is outside ${spec.min}..${spec.max}`;
    }
    if (b < a) return `${spec.name} range "${range}" goes backwards`;
  }
  return undefined;
}

/**
 * Checks a cron expression (5 fields, or 6 with seconds first) field by field and returns
 * what is wrong, or undefined when it is valid. Stricter than node-cron's own `validate`,
 * which accepts steps larger than the field (`*\/61`) and then silently runs at minute 0.
 *
 * @example
 * cronProblem('*\/5 * * * *') // undefined
 * cronProblem('*\/61 * * * *') // 'minute step "/61" must be 1..60'
 */
export function cronProblem(expression: string): string | undefined {
  if (typeof expression !== 'string') return 'must be a string';
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    return `has ${fields.length} fields; expected 5 (minute hour day month weekday) or 6 (second first)`;
  }
  const specs = fields.length === 6 ? [SECOND, ...FIVE_FIELDS] : FIVE_FIELDS;
  for (let i = 0; i < fields.length; i++) {
    const problem = fieldProblem(fields[i]!, specs[i]!);
    if (problem) return problem;
  }
  if (!cron.validate(expression.trim())) return 'is rejected by node-cron';
  return undefined;
}
