/** A destination split at its first ':' (`routeros:tower-3` -> route `routeros`, target `tower-3`). */
export interface Destination {
  /** The part before the first ':' (the whole destination when it has none): the publisher route. */
  readonly route: string;
  /** The part after the first ':', or undefined when there is no ':'. */
  readonly target: string | undefined;
}

/**
 * Splits a destination into its route and target. The one place that knows the
 * `prefix:suffix` form: the relay routes by it, publishers read the target from it.
 *
 * @example
 * parseDestination('routeros:tower-3') // { route: 'routeros', target: 'tower-3' }
 * parseDestination('webhook') // { route: 'webhook', target: undefined }
 */
export function parseDestination(destination: string): Destination {
  const colon = destination.indexOf(':');
  return colon === -1
    ? { route: destination, target: undefined }
    : { route: destination.slice(0, colon), target: destination.slice(colon + 1) };
}
