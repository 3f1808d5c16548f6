/**
 * The negotiations of one room session. Only the client offers, and one offer at a time:
 * `request()` asks for one; if an offer is out, the request waits for its answer and a
 * single new offer then covers everything asked for meanwhile (coalesced). Steps on the
 * peer connection run one after another (`run`).
 *
 * - Before each offer `prepare` adds whatever transceivers are wanted (the slots the server
 *   asked for); after setLocalDescription `tracks` names our send tracks by mid.
 * - An offer that cannot be sent (socket down) is taken back and sent again on `resume`.
 * - An answer that does not come within ANSWER_TIMEOUT_MS (or a `failed` from the server)
 *   takes the offer back and offers again.
 * - A stale answer (none is out) is ignored.
 */
import type { Timers } from '../../gateway/connection';
import type { ClientEvent, RoomSlot, RoomTrack } from '../../gateway/protocol';
import type { RoomScope } from './deps';

export const ANSWER_TIMEOUT_MS = 15_000;
/** After a failed offer (`unavailable`, an exception), the next try waits this long. */
export const RETRY_AFTER_MS = 1_000;

export interface NegotiationHooks {
  /** Adds the transceivers wanted before the offer is made (recvonly slots). */
  prepare(pc: RTCPeerConnection): void;
  /** Our send tracks by mid; called after setLocalDescription, when the mids are known. */
  tracks(pc: RTCPeerConnection): RoomTrack[];
  /** The answer is applied: the slots it names. */
  answered(slots: RoomSlot[]): void;
  send(event: ClientEvent): boolean;
}

export class Negotiator {
  private chain: Promise<void> = Promise.resolve();
  private inFlight = false;
  private wanted = false;
  private iceRestart = false;
  private answerTimer: unknown = null;
  private retryTimer: unknown = null;
  /** How many offers went out (tests and diagnostics). */
  sentOffers = 0;

  constructor(
    private readonly scope: RoomScope,
    private readonly hooks: NegotiationHooks,
    private readonly timers: Timers,
  ) {}

  /** Whether an offer is out, waiting for its answer. */
  get offering(): boolean {
    return this.inFlight;
  }

  /** Whether another offer is wanted once the current one is answered. */
  get pending(): boolean {
    return this.wanted;
  }

  /** Asks for a negotiation (with an ICE restart when `iceRestart`). */
  request(options: { iceRestart?: boolean } = {}): void {
    this.wanted = true;
    if (options.iceRestart) this.iceRestart = true;
    this.run(() => this.pump());
  }

  /** `room.answer`: applies it, then makes the offer that waited, if any. */
  answer(sdp: string, slots: RoomSlot[]): void {
    this.run(async () => {
      const pc = this.scope.pc;
      if (!pc || !this.inFlight || pc.signalingState !== 'have-local-offer') return; // stale
      this.clearAnswerTimer();
      await pc.setRemoteDescription({ type: 'answer', sdp });
      this.inFlight = false;
      if (this.scope.closed) return;
      this.hooks.answered(slots);
      await this.pump();
    });
  }

  /** The server refused or lost the offer: take it back and try again in a moment. */
  failed(): void {
    this.run(async () => {
      if (!this.inFlight) return;
      await this.takeBack();
      this.wanted = true;
      this.retryLater();
    });
  }

  /** The socket is back: an offer that could not be sent (or whose answer was lost) goes out again. */
  resume(): void {
    this.run(async () => {
      if (this.inFlight) {
        await this.takeBack();
        this.wanted = true;
      }
      await this.pump();
    });
  }

  /** Forgets everything (teardown, or a new peer connection). */
  reset(): void {
    this.clearAnswerTimer();
    if (this.retryTimer !== null) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.inFlight = false;
    this.wanted = false;
    this.iceRestart = false;
  }

  /** Runs `op` after every step queued before it (none once the session is closed). */
  private run(op: () => Promise<void>): void {
    const scope = this.scope;
    this.chain = this.chain
      .then(() => (scope.closed ? undefined : op()))
      .catch((err: unknown) => {
        if (scope.closed) return;
        console.warn('rooms: negotiation step failed', err);
        // Whatever failed, the state is stable or have-local-offer: try again in a moment.
        this.inFlight = false;
        this.wanted = true;
        this.retryLater();
      });
  }

  private async pump(): Promise<void> {
    const pc = this.scope.pc;
    if (!pc || this.scope.closed || this.inFlight || !this.wanted) return;
    if (pc.signalingState === 'have-local-offer') await pc.setLocalDescription({ type: 'rollback' });
    this.wanted = false;
    const iceRestart = this.iceRestart;
    this.iceRestart = false;
    this.hooks.prepare(pc);
    const offer = await pc.createOffer(iceRestart ? { iceRestart: true } : undefined);
    if (this.scope.closed) return;
    await pc.setLocalDescription(offer);
    if (this.scope.closed) return;
    const sdp = pc.localDescription?.sdp ?? offer.sdp ?? '';
    const sent = this.hooks.send({ type: 'room.offer', conversation_id: this.scope.conversationId, sdp, tracks: this.hooks.tracks(pc) });
    if (!sent) {
      // Not connected: take it back; `resume` sends a fresh one.
      await pc.setLocalDescription({ type: 'rollback' });
      this.wanted = true;
      this.iceRestart ||= iceRestart;
      return;
    }
    this.sentOffers++;
    this.inFlight = true;
    this.answerTimer = this.timers.setTimeout(() => {
      this.answerTimer = null;
      this.run(async () => {
        if (!this.inFlight) return;
        await this.takeBack();
        this.wanted = true;
        await this.pump();
      });
    }, ANSWER_TIMEOUT_MS);
  }

  private async takeBack(): Promise<void> {
    this.clearAnswerTimer();
    this.inFlight = false;
    const pc = this.scope.pc;
    if (pc && pc.signalingState === 'have-local-offer') await pc.setLocalDescription({ type: 'rollback' });
  }

  private retryLater(): void {
    if (this.retryTimer !== null || this.scope.closed) return;
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      this.run(() => this.pump());
    }, RETRY_AFTER_MS);
  }

  private clearAnswerTimer(): void {
    if (this.answerTimer !== null) this.timers.clearTimeout(this.answerTimer);
    this.answerTimer = null;
  }
}
