import { errorBackoffMs } from './error-backoff.js';
import type { Publisher } from '../foundation/publisher.js';
import { ClaimPacing } from './claim-pacing.js';
import { ClaimedMessage } from './claimed-message.js';
import { guardConnectionErrors } from '../foundation/connection-error-guard.js';
import { describeError, OutboxError } from '../foundation/errors.js';
import { FailureSummary } from './failure-summary.js';
import { DestinationLimits } from './destination-limits.js';
import { DestinationFlow } from './destination-flow.js';
import { FollowerParking } from './follower-parking.js';
import type { OutboxMessage } from '../foundation/message.js';
import { parseDestination } from '../foundation/parse-destination.js';
import { abortJob, attemptPublish, type Job, type Outcome } from './publish-attempt.js';
import { OrderedDeadlines } from '../foundation/ordered-deadlines.js';
import { type RunSql, sqlRunner } from '../foundation/queryable.js';
import type { Relay, RelayCounters, RoundResult } from './relay-api.js';
import { RelayEventEmitter } from './relay-events.js';
import {
  claimArgs,
  type RelayOptions,
  type ResolvedRelayOptions,
  resolveRelayOptions,
  warnShortDeadlines,
} from './relay-options.js';
import { SchemaFence } from './schema-fence.js';
import { IdleWaiters } from './idle-waiters.js';
import { OutboxStore, preparedRunner } from '../store/index.js';
import { warnUnservedDestinations } from './unserved-destinations.js';
import { WakeableSleep } from './wakeable-sleep.js';
import { WriteBack, type Written } from './write-back.js';
import { ABORT_GRACE_MS, BUSY_POLL_INTERVAL_MS, BUSY_WINDOW_MS, WAKE_RECHECK_MS } from './loop-timing.js';
import { type TallyTarget, tallyWritten } from './written-tally.js';

export type { Relay, RelayCounters, RoundResult } from './relay-api.js';
export { BUSY_POLL_INTERVAL_MS } from './loop-timing.js';
export type { DeliveredInfo, DestinationPauseInfo, RelayEvents } from './relay-events.js';
export {
  DEFAULT_BATCH_SIZE,
  DEFAULT_CONCURRENCY,
  DEFAULT_LEASE_MS,
  DEFAULT_POLL_INTERVAL_MS,
  DEFAULT_STOP_TIMEOUT_MS,
  RELAY_OPTION_BOUNDS,
  type RelayHints,
  type RelayOptions,
} from './relay-options.js';

/**
 * Creates a relay. Several relays (in one or many processes) can run on one table: each row
 * is delivered by one of them at a time, and a crashed relay's rows come back after `leaseMs`.
 *
 * @example
 * const relay = createRelay({ db, publishers: { default: new ConsolePublisher() } });
 * relay.start();
 * process.on('SIGTERM', () => relay.stop());
 */
export function createRelay(options: RelayOptions): Relay {
  return new OutboxRelay(options);
}

/** Lifecycle and loop; the rules live in claim-pacing, publish-attempt and write-back. */
class OutboxRelay extends RelayEventEmitter implements Relay {
  readonly workerId: string;
  private readonly o: ResolvedRelayOptions;
  private readonly run: RunSql;
  private readonly store: OutboxStore;
  private readonly pacing: ClaimPacing;
  private readonly parking: FollowerParking;
  private readonly limits: DestinationLimits;
  private readonly flow: DestinationFlow;
  private readonly tally: TallyTarget; // made once, not per written message
  private readonly writeBack: WriteBack;
  private readonly failures: FailureSummary;
  private readonly fence: SchemaFence;
  private readonly routes: string;
  private readonly totals = {
    claimed: 0,
    delivered: 0,
    retried: 0,
    dead: 0,
    duplicates: 0,
    claimBatches: 0,
    errors: 0,
  };
  private isRunning = false;
  /** Why the relay stopped itself (the schema's version does not match this build). */
  fault: OutboxError | undefined;
  private loopDone: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  /** The claim of a `runOnce()` in progress: stop() waits for it before releasing the queue. */
  private claimInFlight: Promise<unknown> | undefined;
  private readonly pause = new WakeableSleep();
  /** The one check for destinations nobody serves, started by the first claim. */
  private unservedCheck: Promise<void> | undefined;
  /** Index into WAKE_RECHECK_MS of the next re-check after a wake-up; -1 when none is due. */
  private wakeRecheck = -1;
  /** Number of wake() calls, to tell whether one arrived during a claim. */
  private wakes = 0;
  /** performance.now() of the last claim that found messages. */
  private lastFoundAt = Number.NEGATIVE_INFINITY;
  /** Claimed, not yet started. */
  private readonly queue: Job[] = [];
  /** Publishing now. */
  private readonly active = new Set<Job>();
  /** Cuts off publishes past their deadline: one timer for all of them. */
  private readonly deadlines = new OrderedDeadlines(this.active, (job) => job.expire?.());
  /** What every attempt is started with (made once, not per publish). */
  private readonly attemptOptions: Parameters<typeof attemptPublish>[2];
  private readonly onFinished = (outcome: Outcome) => this.finished(outcome.job, outcome);
  /** Waiting for queue and publishes to be empty (runOnce, stop: several at once). */
  private readonly idle = new IdleWaiters();
  private readonly isIdle = () => this.active.size === 0 && this.queue.length === 0;

  constructor(options: RelayOptions) {
    super();
    const o = resolveRelayOptions(options);
    this.o = o;
    warnShortDeadlines(o);
    guardConnectionErrors(options.db, o.logger);
    this.workerId = o.workerId;
    this.listenerLogger = o.logger;
    this.fence = new SchemaFence(options.db, o.schema, o.logger);
    this.store = new OutboxStore(o.schema, { fenceVersion: this.fence.builtFor });
    this.run = o.preparedStatements ? preparedRunner(options.db, this.store.hotPath) : sqlRunner(options.db);
    this.routes = Object.keys(o.publishers).join(', ');
    this.attemptOptions = { ...o, routes: this.routes };
    this.pacing = new ClaimPacing(o);
    this.parking = new FollowerParking(this.store, this.run, o.clock);
    this.limits = new DestinationLimits({ ...o, db: options.db, outbox: this.store, run: this.run });
    this.flow = new DestinationFlow({
      ...o,
      db: options.db,
      store: this.store,
      run: this.run,
      listener: this,
      serves: (d) => this.route(d) !== undefined,
      queue: this.queue,
      release: (job) => this.writeBack.add({ kind: 'released', job }),
      claimDead: (message, reason) =>
        this.written({ kind: 'dead', message, reason, deadReason: 'lease_expired' }),
      report: (error, msg) => this.report(error, msg),
    });
    this.failures = new FailureSummary({ logger: o.logger, clock: o.clock });
    this.tally = {
      totals: this.totals,
      failures: this.failures,
      events: this,
      flow: this.flow,
      logger: o.logger,
    };
    this.writeBack = new WriteBack({
      ...o,
      store: this.store,
      run: this.run,
      onWritten: (w) => this.written(w),
      onError: (error, msg) => this.report(error, msg),
      isStopping: () => this.stopping !== undefined,
    });
    if (options.signal?.aborted) void this.stop();
    else options.signal?.addEventListener('abort', () => void this.stop(), { once: true });
  }

  get running(): boolean {
    return this.isRunning;
  }

  counters(): RelayCounters {
    return { ...this.totals, listenerErrors: this.listenerErrors };
  }

  wake(): void {
    this.wakeRecheck = 0;
    this.wakes++;
    this.nudge();
  }

  /** Ends the loop's current sleep (or the next one) without arming the wake-up re-checks. */
  private nudge(): void {
    this.pause.nudge();
  }

  start(): void {
    if (this.isRunning) return;
    if (this.stopping) throw new OutboxError('RELAY_STOPPED', 'relay was stopped; create a new one');
    this.isRunning = true;
    this.loopDone = this.loop();
    this.o.logger.info({ batchSize: this.o.batchSize, concurrency: this.o.concurrency }, 'relay started');
  }

  async runOnce(): Promise<RoundResult> {
    if (this.stopping) throw new OutboxError('RELAY_STOPPED', 'relay was stopped; create a new one');
    this.fault ??= await this.fence.check();
    if (this.fault) throw this.fault;
    const before = this.counters();
    const want = this.pacing.claimRoom(this.held());
    const claiming = this.claim(want);
    this.claimInFlight = claiming;
    let claimed: number;
    try {
      claimed = (await claiming).length;
    } finally {
      if (this.claimInFlight === claiming) this.claimInFlight = undefined;
    }
    this.pump();
    await this.idle.wait(Number.POSITIVE_INFINITY, this.isIdle);
    await this.writeBack.drain();
    // Short: the claim walked everything due. Park what waits behind blocked keys for the next
    // round; a failure here is reported, not the round's (everything claimed is written back).
    if (claimed < want)
      await this.parking.afterShortClaim().catch((error: unknown) => this.report(error, 'parking failed'));
    const after = this.totals;
    return {
      claimed,
      delivered: after.delivered - before.delivered,
      retried: after.retried - before.retried,
      dead: after.dead - before.dead,
    };
  }

  stop(options: { timeoutMs?: number } = {}): Promise<void> {
    this.stopping ??= this.shutdown(options.timeoutMs ?? this.o.stopTimeoutMs);
    return this.stopping;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    this.isRunning = false;
    this.nudge();
    await this.loopDone;
    await this.claimInFlight?.catch(() => undefined); // its failure is runOnce's to report
    // Claimed but never started: give them back with their attempt, claimable at once.
    for (const job of this.queue.splice(0)) this.writeBack.add({ kind: 'released', job });
    if (!(await this.idle.wait(timeoutMs, this.isIdle))) {
      // Stopping is not the message's failure: an aborted publish gives its attempt back.
      for (const job of this.active) {
        job.stopped = true;
        abortJob(job, new OutboxError('RELAY_STOPPED', 'relay stopping'));
      }
      if (!(await this.idle.wait(ABORT_GRACE_MS, this.isIdle))) {
        // Still running despite the abort: it may yet reach the receiver, so the row is not
        // released (another relay would send it at the same time); its lease expires instead.
        this.o.logger.warn(
          { messageIds: [...this.active].map((j) => j.message.messageId) },
          'publishes ignored the stop; leaving their rows to lease expiry',
        );
        this.active.clear();
        this.idle.settle();
      }
    }
    this.deadlines.close();
    await this.writeBack.drain();
    if (this.o.closePublishers) {
      for (const p of new Set(Object.values(this.o.publishers))) {
        await p.close?.().catch((error: unknown) => this.report(error, `closing publisher ${p.name} failed`));
      }
    }
    this.o.logger.info({ ...this.counters() }, 'relay stopped');
  }

  private async loop(): Promise<void> {
    let errorsInRow = 0;
    while (this.isRunning) {
      try {
        // The claim's own fence takes nothing from a newer schema; this turns that into a stop.
        this.fault ??= await this.fence.check();
        if (this.fault) break;
        // Prefetch: claim the next batch while the current one is still publishing.
        const want = this.pacing.claimRoom(this.held());
        if (want > 0) {
          const wakesBefore = this.wakes;
          const jobs = await this.claim(want);
          errorsInRow = 0;
          if (jobs.length > 0) {
            this.pump();
            if (jobs.length === want) continue;
          }
          // Short: the claim walked everything due. Park what waits behind blocked keys, while
          // the batch just claimed is publishing.
          await this.parking.afterShortClaim();
          if (jobs.length > 0) {
            // Found what the last wake-up announced, unless another came in during the claim.
            if (this.wakes === wakesBefore) this.wakeRecheck = -1;
            this.lastFoundAt = performance.now();
          }
          // A wake-up's row may not be committed yet: look again soon, also while busy.
          const recheckMs = WAKE_RECHECK_MS[this.wakeRecheck];
          if (recheckMs !== undefined) {
            this.wakeRecheck++;
            await this.sleep(Math.min(this.o.pollIntervalMs, recheckMs));
            continue;
          }
          this.wakeRecheck = -1;
          // Messages flowed recently: poll at the busy interval. Finished publishes nudge the
          // loop, so an empty claim right after a full one is normal under a steady stream and
          // must not drop the relay back to the idle interval.
          if (performance.now() - this.lastFoundAt < BUSY_WINDOW_MS) {
            await this.sleep(Math.min(this.o.pollIntervalMs, BUSY_POLL_INTERVAL_MS));
            continue;
          }
        }
        await this.sleep(this.o.pollIntervalMs, want);
      } catch (error) {
        errorsInRow++;
        this.report(error, 'claiming failed; retrying');
        await this.pause.sleep(errorBackoffMs(this.o.pollIntervalMs, errorsInRow));
      }
    }
    const fault = this.fault;
    // Finishes or releases what it holds, then says so; not awaited here (stop awaits this loop).
    if (fault) void this.stop().then(() => this.notify('fault', fault));
  }

  /** Sleeps `ms`, or until a limit's tokens when sooner and there is room to claim them. */
  private sleep(ms: number, room = 1): Promise<void> {
    return this.pause.sleep(room > 0 ? this.limits.sleepCap(ms) : ms);
  }

  private held(): number {
    return this.queue.length + this.active.size;
  }

  /** Claims up to `limit` rows into the queue; returns the jobs to publish. */
  private async claim(limit: number): Promise<Job[]> {
    if (limit <= 0) return [];
    this.unservedCheck ??= warnUnservedDestinations(this.run, this.o);
    const [, probes] = await Promise.all([this.unservedCheck, this.flow.look(), this.limits.look()]);
    const started = performance.now();
    const args = claimArgs(this.o);
    const rows = await this.limits.claimFirst(limit, args, (room) =>
      this.store.claim(this.run, { ...args, limit: room }),
    );
    const durationMs = performance.now() - started;
    // Measured from before the statement: the database's lease surely ends later than this.
    const leaseEnd = started + this.o.leaseMs;
    const jobs: Job[] = [...probes];
    const dead: Array<[OutboxMessage, string]> = [];
    for (const row of rows) {
      const message = new ClaimedMessage(row);
      if (row.dead_error === null) jobs.push({ message, leaseEnd, started: false, deadline: 0 });
      else dead.push([message, row.dead_error]);
    }
    this.totals.claimBatches++;
    this.totals.claimed += jobs.length;
    this.queue.push(...jobs);
    // Events after the state they describe is in place: a throwing listener cannot strand rows.
    if (jobs.length > 0) this.notify('claimed', jobs.length, { durationMs });
    for (const [message, reason] of dead)
      this.written({ kind: 'dead', message, reason, deadReason: 'lease_expired' });
    return jobs;
  }

  /** Starts queued jobs up to the concurrency limit. */
  private pump(): void {
    let nowMs = 0;
    while (!this.stopping && this.active.size < this.o.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      nowMs ||= performance.now();
      // A publish whose deadline passes its lease end could still run when another relay
      // takes the row: give it back unstarted, with its attempt, instead.
      if (nowMs + this.o.publishTimeoutMs > job.leaseEnd) {
        this.o.logger.debug({ messageId: job.message.messageId }, 'not started within its lease; released');
        this.writeBack.add({ kind: 'released', job });
        continue;
      }
      job.started = true;
      job.deadline = nowMs + this.o.publishTimeoutMs;
      this.active.add(job);
      this.deadlines.started(job);
      attemptPublish(job, this.route(job.message.destination), this.attemptOptions, this.onFinished);
    }
    if (this.active.size === 0 && (this.queue.length === 0 || this.stopping)) this.idle.settle();
  }

  private finished(job: Job, outcome: Outcome): void {
    if (!this.active.delete(job)) return; // cut off by stop(): left to lease expiry
    // No timer keeps an idle process (or a finished runOnce) alive.
    if (this.active.size === 0) this.deadlines.close();
    this.limits.finished(job.message.destination, job.message.tenantId);
    if (outcome.durationMs !== undefined) this.pacing.record(outcome.durationMs);
    this.flow.finished(job, outcome);
    this.writeBack.add(outcome);
    this.pump();
    if (this.pacing.claimRoom(this.held()) > 0) this.nudge();
  }

  private route(destination: string): Publisher | undefined {
    return this.o.publishers[destination] ?? this.o.publishers[parseDestination(destination).route];
  }

  /** Counts and announces what the database accepted (written-tally.ts). */
  private written(w: Written): void {
    tallyWritten(w, this.tally);
  }

  private report(error: unknown, msg: string): void {
    this.totals.errors++;
    this.o.logger.error({ err: describeError(error) }, msg);
    this.notify('error', error);
  }
}
