/**
 * A value JSON can carry as is: what a payload may hold. `bigint`, functions and symbols are
 * not (JSON.stringify throws on a bigint and drops the others), so the compiler refuses them
 * before `add` would at run time.
 *
 * @example
 * const payload: JsonValue = { invoiceId: 'inv_1', amountCents: 4200, tags: ['paid'] };
 */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue | undefined };

/**
 * `T` when everything in it is JSON, else `T` with `never` where it is not, so a type holding a
 * `bigint` fails to match. Unlike `JsonValue` it accepts interfaces (which have no index
 * signature) and `Date` (sent as its ISO string, as `JSON.stringify` does).
 *
 * @example
 * type Ok = Jsonable<{ at: Date; n: number }>; // { at: Date; n: number }
 * type No = Jsonable<{ n: bigint }>;           // { n: never }
 */
export type Jsonable<T> = [T] extends [JsonValue]
  ? T
  : T extends string | number | boolean | null | undefined | Date
    ? T
    : T extends bigint | symbol | ((...args: never[]) => unknown)
      ? never
      : T extends readonly unknown[]
        ? { readonly [I in keyof T]: Jsonable<T[I]> }
        : T extends object
          ? { [K in keyof T]: Jsonable<T[K]> }
          : never;

/**
 * The constraint of an event map: every payload type is `Jsonable`.
 *
 * @example
 * function typed<E extends JsonEvents<E>>() {}
 */
export type JsonEvents<E> = { [K in keyof E]: Jsonable<E[K]> };
