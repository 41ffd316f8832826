import type { FakeRow } from './fake-router.js';

/**
 * Splits `=name=value` words into a record (the value may contain `=`).
 *
 * @example
 * attributesOf(['=name=alice', '=comment=a=b']) // { name: 'alice', comment: 'a=b' }
 */
export function attributesOf(words: readonly string[]): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const word of words) {
    if (!word.startsWith('=')) continue;
    const eq = word.indexOf('=', 1);
    if (eq === -1) attributes[word.slice(1)] = '';
    else attributes[word.slice(1, eq)] = word.slice(eq + 1);
  }
  return attributes;
}

/** Whether a row matches a query. */
export type Predicate = (row: FakeRow) => boolean;

/**
 * Evaluates RouterOS query words (`?name=x`, `?-name`, `?<a=1`, `?#|!`) against one row set.
 *
 * @example
 * rows.filter(compileQuery(['?list=vip', '?address=10.0.0.1']));
 */
export function compileQuery(words: readonly string[]): Predicate {
  const stack: Predicate[] = [];
  const pop = (): Predicate => stack.pop() ?? (() => true);
  for (const word of words) {
    const q = word.slice(1);
    if (q.startsWith('#')) {
      for (const op of q.slice(1)) {
        if (op === '|' || op === '&') {
          const b = pop();
          const a = pop();
          stack.push(op === '|' ? (r) => a(r) || b(r) : (r) => a(r) && b(r));
        } else if (op === '!') {
          const a = pop();
          stack.push((r) => !a(r));
        } else if (op === '.') {
          const a = stack[stack.length - 1] ?? (() => true);
          stack.push(a);
        } else if (/\d/.test(op)) {
          const a = stack[Number(op)] ?? (() => true);
          stack.push(a);
        }
      }
      continue;
    }
    if (q.startsWith('-')) {
      const name = q.slice(1);
      stack.push((r) => r[name] === undefined);
      continue;
    }
    const body = q.startsWith('=') ? q.slice(1) : q;
    const eq = body.indexOf('=');
    if (eq === -1) {
      stack.push((r) => r[body] !== undefined);
      continue;
    }
    const op = body[0] === '<' || body[0] === '>' ? body[0] : '=';
    const name = body.slice(op === '=' ? 0 : 1, eq);
    const value = body.slice(eq + 1);
    const compare = (a: string, b: string): number =>
      /^\d+$/.test(a) && /^\d+$/.test(b) ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0;
    if (op === '=') stack.push((r) => r[name] === value);
    else if (op === '<') stack.push((r) => r[name] !== undefined && compare(r[name]!, value) < 0);
    else stack.push((r) => r[name] !== undefined && compare(r[name]!, value) > 0);
  }
  return (row) => stack.every((p) => p(row));
}
