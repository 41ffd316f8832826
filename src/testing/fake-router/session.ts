import type net from 'node:net';
import tls from 'node:tls';
import { encodeSentence, SentenceReader } from '../routeros-words.js';
import type { FakeRouterMode, FakeRouterStats } from './fake-router.js';
import { type Menus, type Reply, TrapReply } from './menus.js';
import { attributesOf } from './query.js';

/** What a session shares with its router: fault modes, users, configuration and counters. */
export interface SessionContext {
  readonly mode: FakeRouterMode;
  readonly users: Readonly<Record<string, string>>;
  readonly menus: Menus;
  readonly stats: FakeRouterStats;
  /** Open sockets, so the router can drop them all. */
  readonly sockets: Set<net.Socket>;
}

/**
 * Resets the TCP connection under `socket`. A TLS socket has no TCP handle of its own
 * (`resetAndDestroy` throws ERR_INVALID_HANDLE_TYPE), so reset the TCP socket it wraps
 * (`_parent`, internal to node:tls); if that is ever missing, fall back to a plain close.
 */
export function resetSocket(socket: net.Socket): void {
  const tcp = socket instanceof tls.TLSSocket ? (socket as { _parent?: net.Socket })._parent : socket;
  if (tcp && typeof tcp.resetAndDestroy === 'function') tcp.resetAndDestroy();
  socket.destroy();
}

/**
 * Serves one API connection: login, then commands in arrival order, each answered from the
 * menus or with the fault the current mode asks for.
 *
 * @example
 * net.createServer((socket) => serveSession(socket, { mode, users, menus, stats, sockets }));
 */
export function serveSession(socket: net.Socket, router: SessionContext): void {
  const { mode, users, menus, stats, sockets } = router;
  stats.connections++;
  stats.openConnections++;
  sockets.add(socket);
  socket.setNoDelay(true);
  // A client that resets us is normal in failure tests; never let it crash the test runner.
  socket.on('error', () => undefined);
  socket.on('close', () => {
    stats.openConnections--;
    sockets.delete(socket);
  });
  if (mode.finBeforeLogin) {
    socket.end();
    return;
  }
  const reader = new SentenceReader();
  let loggedIn = false;
  // Sentences are handled one at a time so replies keep the order commands arrived in.
  let chain: Promise<void> = Promise.resolve();
  socket.on('data', (chunk) => {
    let sentences: string[][];
    try {
      sentences = reader.push(chunk);
    } catch {
      socket.destroy();
      return;
    }
    for (const words of sentences) {
      chain = chain
        .then(() => handle(words))
        .catch(() => {
          socket.destroy();
        });
    }
  });

  const send = async (reply: Reply, tag: string | undefined): Promise<void> => {
    if (mode.delayMs > 0) await new Promise((r) => setTimeout(r, mode.delayMs));
    if (socket.destroyed || mode.silent) return;
    // The reply word comes first, then the tag: node-routeros files a sentence under the
    // tag seen since the previous reply word.
    const tagged = reply.map((s) => (tag === undefined ? s : [s[0]!, `.tag=${tag}`, ...s.slice(1)]));
    socket.write(Buffer.concat(tagged.map(encodeSentence)));
  };

  const trap = (error: TrapReply): Reply => [
    [
      '!trap',
      ...(error.category === undefined ? [] : [`=category=${error.category}`]),
      `=message=${error.message}`,
    ],
    ['!done'],
  ];

  async function handle(words: string[]): Promise<void> {
    if (mode.silent) return;
    const tagWord = words.find((w) => w.startsWith('.tag='));
    const tag = tagWord?.slice(5);
    const command = words[0]!;
    const rest = words.slice(1).filter((w) => w !== tagWord);
    if (!loggedIn) {
      if (command !== '/login') {
        await send(trap(new TrapReply('not logged in', 5)), tag);
        return;
      }
      const { name, password } = attributesOf(rest);
      if (mode.refuseLogins || name === undefined || users[name] === undefined || users[name] !== password) {
        stats.failedLogins++;
        await send(trap(new TrapReply('invalid user name or password (6)')), tag);
        return;
      }
      loggedIn = true;
      stats.logins++;
      await send([['!done']], tag);
      return;
    }
    if (command === '#') {
      await send([['!done']], tag);
      return;
    }
    stats.commands++;
    if (mode.drop) {
      if (mode.drop === 'rst') resetSocket(socket);
      else socket.end();
      return;
    }
    if (mode.fatal || command === '/quit') {
      const reason = mode.fatal || 'session terminated on request';
      socket.end(Buffer.concat([encodeSentence(['!fatal', reason])]));
      return;
    }
    if (command === '/cancel') {
      await send([['!done']], tag);
      return;
    }
    if (mode.trap && mode.trap.command === command) {
      const configured = mode.trap;
      if (configured.times !== undefined && --configured.times <= 0) mode.trap = undefined;
      await send(trap(new TrapReply(configured.message, configured.category)), tag);
      return;
    }
    let result: { reply: Reply; wrote: boolean };
    try {
      result = menus.run(command, rest, mode.readOnly);
    } catch (error) {
      if (!(error instanceof TrapReply)) throw error;
      await send(trap(error), tag);
      return;
    }
    if (result.wrote && mode.dropAfterApply > 0) {
      mode.dropAfterApply--;
      resetSocket(socket);
      return;
    }
    const reply = result.reply;
    if (mode.emptyReplies && reply.length === 1 && reply[0]![0] === '!done' && command.endsWith('/print')) {
      reply.unshift(['!empty']);
    }
    await send(reply, tag);
  }
}
