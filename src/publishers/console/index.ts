// The console publisher's entry, like webhook/ and routeros/; the root `outbox-relay` entry
// re-exports it (pino is a dependency of the library anyway).
export { ConsolePublisher, type ConsolePublisherOptions } from './console-publisher.js';
