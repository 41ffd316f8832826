import { JetStreamApiError, JetStreamApiCodes } from '@nats-io/jetstream';
import {
  AuthorizationError,
  ClosedConnectionError,
  ConnectionError,
  DrainingConnectionError,
  InvalidArgumentError,
  InvalidSubjectError,
  NoRespondersError,
  PermissionViolationError,
  RequestError,
  TimeoutError,
  UserAuthenticationExpiredError,
} from '@nats-io/transport-node';
import { describeError, PermanentPublishError, TransientPublishError } from '../../core/foundation/errors.js';

/** What the classifier needs to know about the publish that failed. */
export interface NatsPublishFailure {
  readonly subject: string;
  /** Bytes of body + headers sent. */
  readonly bytes: number;
  /** The connected server's `max_payload`, when known. */
  readonly maxPayload: number | undefined;
  readonly timeoutMs: number;
  readonly expectStream: string | undefined;
  /**
   * Names the stream bound to a subject; rejects with JetStream's 10059 "no stream matches
   * subject" when there is none. Used only to tell "no stream" from "stream not answering".
   */
  findStream(subject: string): Promise<string>;
}

function chain(error: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = error, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) out.push(e);
  return out;
}

function find<T>(error: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  return chain(error).find((e): e is T => e instanceof type);
}

function isNoResponders(error: unknown): boolean {
  return chain(error).some(
    (e) => e instanceof NoRespondersError || (e instanceof RequestError && e.isNoResponders()),
  );
}

/**
 * Turns what the NATS client threw into the relay's two outcomes. Permanent (dead-letter now):
 * no stream bound to the subject, a message over the server's `max_payload` or the stream's
 * `max_msg_size`, a permission violation, an invalid subject or header, a stream other than
 * `expectStream`, and any other JetStream 4xx. Transient (retry with backoff): PubAck timeouts,
 * disconnects and reconnects, `503 no responders` from a stream that exists (leader
 * election, restart) or from a JetStream that is not up yet, JetStream 5xx (storage full,
 * cluster unavailable), and failed connects, authentication included: a credential fixed by
 * the operator should deliver the backlog, not find it dead-lettered.
 *
 * A 503 alone cannot say which case it is: the server answers "no responders" both when no
 * stream listens on the subject and when the stream's leader is not up. So on a 503 the
 * classifier asks JetStream which stream is bound to the subject, and only its "no stream
 * matches subject" answer makes the failure permanent.
 *
 * @example
 * try { ack = await js.publish(subject, body, opts); }
 * catch (e) { throw await classifyNatsError(e, { subject, bytes, maxPayload, timeoutMs, expectStream, findStream }); }
 */
export async function classifyNatsError(error: unknown, failure: NatsPublishFailure): Promise<Error> {
  if (error instanceof TransientPublishError || error instanceof PermanentPublishError) return error;
  const subject = JSON.stringify(failure.subject);

  const denied = find(error, PermissionViolationError);
  if (denied) {
    const what =
      denied.operation === 'publish'
        ? `publish to ${JSON.stringify(denied.subject)}`
        : `subscribe to ${JSON.stringify(denied.subject)} (the reply inbox PubAcks arrive on)`;
    return new PermanentPublishError(
      `permission denied publishing to ${subject}: the NATS user may not ${what}`,
      { cause: error },
    );
  }

  const invalid = find(error, InvalidArgumentError);
  if (invalid?.message.includes('max_payload')) {
    const limit = failure.maxPayload === undefined ? '' : ` of ${failure.maxPayload} bytes`;
    return new PermanentPublishError(
      `message of ${failure.bytes} bytes (body + headers) to ${subject} is over the server's max_payload${limit}`,
      { cause: error },
    );
  }
  if (find(error, InvalidSubjectError)) {
    return new PermanentPublishError(`subject ${subject} is not a valid NATS subject`, { cause: error });
  }

  const api = find(error, JetStreamApiError);
  if (api) {
    const { err_code: code, description } = api.apiError();
    const status = api.status;
    const why = `JetStream refused the publish to ${subject}: ${description} (status ${status}, err_code ${code})`;
    if (status >= 500 || status === 408 || status === 429)
      return new TransientPublishError(why, { cause: error });
    if (code === 10060 && failure.expectStream !== undefined) {
      return new PermanentPublishError(
        `${why}: the subject is not bound to the expected stream ${JSON.stringify(failure.expectStream)}`,
        { cause: error },
      );
    }
    return new PermanentPublishError(why, { cause: error });
  }

  if (isNoResponders(error)) return noResponders(error, failure);

  if (find(error, TimeoutError)) {
    return new TransientPublishError(
      `no PubAck for ${subject} within ${failure.timeoutMs} ms (server slow, disconnected or reconnecting)`,
      { cause: error },
    );
  }
  const auth = find(error, AuthorizationError) ?? find(error, UserAuthenticationExpiredError);
  if (auth) {
    return new TransientPublishError(`NATS refused the credentials: ${auth.message}`, { cause: error });
  }
  if (find(error, ClosedConnectionError) || find(error, DrainingConnectionError)) {
    return new TransientPublishError(`NATS connection closed or draining while publishing to ${subject}`, {
      cause: error,
    });
  }
  if (find(error, ConnectionError)) {
    return new TransientPublishError(`NATS connection failed: ${describeError(error)}`, { cause: error });
  }
  return new TransientPublishError(`publishing to ${subject} failed: ${describeError(error)}`, {
    cause: error,
  });
}

async function noResponders(error: unknown, failure: NatsPublishFailure): Promise<Error> {
  const subject = JSON.stringify(failure.subject);
  let stream: string;
  try {
    stream = await failure.findStream(failure.subject);
  } catch (lookup) {
    const api = find(lookup, JetStreamApiError);
    if (api?.code === JetStreamApiCodes.StreamNotFound) {
      return new PermanentPublishError(
        `no JetStream stream is bound to subject ${subject} (503 no responders); add the subject to a stream`,
        { cause: error },
      );
    }
    return new TransientPublishError(
      `JetStream did not answer for ${subject} (503 no responders) and the stream lookup failed ` +
        `(${describeError(lookup)}): the server may be restarting or JetStream not enabled`,
      { cause: error },
    );
  }
  return new TransientPublishError(
    `stream ${JSON.stringify(stream)} bound to ${subject} did not answer (503 no responders): ` +
      'its leader may be being elected or its server restarting',
    { cause: error },
  );
}
