import { Channel, Receiver } from 'node-routeros';

/**
 * node-routeros 1.6.9 (unmaintained since 2021) cannot read the `!empty` reply that RouterOS
 * >= 7.18 sends for a print with no rows: `Channel.processPacket` treats it as an unknown
 * reply and throws inside the socket's data handler. That throw escapes to the process as an
 * uncaught exception, the print's promise never settles and the receiver stays wedged, so
 * every "print by name, then add" would hang or crash the relay (routeros-notes.md 3.1,
 * alijayanet/gembok-bill#2).
 *
 * The fix is the one node-red-contrib-mikrotik PR #102 ships: ignore the `!empty` sentence.
 * RouterOS always follows it with `!done` for the same tag, which then resolves the print
 * with `[]`, exactly as on older routers.
 *
 * As a second guard, a throw from the receiver for any other reason (a reply for an unknown
 * tag, routeros-notes.md 3.7) destroys that socket with the error instead of escaping: the
 * connection then fails like any broken connection and is replaced, and the process lives.
 */

const PATCHED = Symbol.for('outbox-relay.routeros.empty-reply-patch');

type PacketHandler = (this: unknown, packet: string[]) => void;
type RawDataHandler = (this: { socket?: { destroy(error?: Error): void } }, data: Buffer) => void;

/**
 * Installs the `!empty` fix and the receiver guard into node-routeros, once per process.
 * `RouterOsPublisher` calls it in its constructor; calling it again does nothing.
 *
 * @example
 * installEmptyReplyPatch();
 * await api.write('/ppp/secret/print', ['?name=nobody']); // [] on RouterOS 7.18+, no crash
 */
export function installEmptyReplyPatch(): void {
  const channel = Channel.prototype as unknown as Record<PropertyKey, unknown>;
  if (channel[PATCHED]) return;
  channel[PATCHED] = true;

  const processPacket = channel.processPacket as PacketHandler;
  channel.processPacket = function (this: unknown, packet: string[]) {
    if (packet[0] === '!empty') return;
    processPacket.call(this, packet);
  };

  const receiver = Receiver.prototype as unknown as Record<PropertyKey, unknown>;
  const processRawData = receiver.processRawData as RawDataHandler;
  receiver.processRawData = function (this: ThisParameterType<RawDataHandler>, data: Buffer) {
    try {
      processRawData.call(this, data);
    } catch (error) {
      this.socket?.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  };
}
