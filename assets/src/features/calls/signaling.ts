/**
 * The signaling of one call: offers, answers and trickled ICE candidates over the gateway,
 * by perfect negotiation. The caller is the impolite peer and keeps its own offer when
 * offers cross; the callee rolls back and answers. Operations on the peer connection run
 * one at a time, in order (`enqueue`). Remote candidates that arrive before the remote
 * description wait for it. An offer that could not be sent (socket down) is taken back and
 * sent again after the rejoin.
 */
import type { ClientEvent, IceCandidateJson } from '../../gateway/protocol';
import type { CallScope } from './deps';

export class Signaling {
  private queue: Promise<void> = Promise.resolve();
  /** Remote candidates waiting for the remote description. */
  private pending: (IceCandidateJson | null)[] = [];
  private makingOffer = false;
  private ignoreOffer = false;
  /** An offer that could not be sent (socket down): sent again when possible. */
  private offerWanted: { restart: boolean } | null = null;

  constructor(
    private readonly call: CallScope,
    private readonly send: (event: ClientEvent) => boolean,
  ) {}

  get pendingCandidates(): number {
    return this.pending.length;
  }

  /** Runs `op` after every operation queued before it (none once the call is closed). */
  enqueue(op: () => Promise<void>): void {
    const call = this.call;
    this.queue = this.queue
      .then(() => (call.closed ? undefined : op()))
      .catch((err: unknown) => {
        if (!call.closed) console.warn('calls: signaling step failed', err);
      });
  }

  /** An ICE restart: a new offer with fresh candidates. */
  restartIce(): void {
    if (!this.call.pc || this.call.closed) return;
    this.enqueue(() => this.makeOffer(true));
  }

  /** A description the other side sent (`call.offer` / `call.answer`). */
  remoteDescription(description: RTCSessionDescriptionInit): void {
    this.enqueue(() => this.applyDescription(description));
  }

  /** A candidate the other side sent (`call.ice`); null is the end of its candidates. */
  remoteCandidate(candidate: IceCandidateJson | null): void {
    void this.addCandidate(candidate);
  }

  /**
   * Our side is bound to a new socket after a reconnect: resend what was lost, unless the
   * media never stopped. `everConnected` is read when the step runs.
   */
  rejoined(everConnected: () => boolean): void {
    const pc = this.call.pc;
    if (!pc) return;
    const want = this.offerWanted;
    const ice = pc.iceConnectionState;
    if (!want && (ice === 'connected' || ice === 'completed')) return; // the media never stopped
    this.enqueue(async () => {
      // An answer to an offer sent on the old socket may never come: start over.
      if (pc.signalingState === 'have-local-offer') await pc.setLocalDescription({ type: 'rollback' });
      this.offerWanted = null;
      // Before the first answer a plain offer will do; afterwards the path needs new candidates.
      await this.makeOffer(everConnected() || pc.remoteDescription !== null || want?.restart === true);
    });
  }

  /** Forgets the waiting candidates (teardown). */
  clear(): void {
    this.pending = [];
  }

  /** Creates and sends an offer (an ICE restart when `restart`). Must run in the queue. */
  async makeOffer(restart: boolean): Promise<void> {
    const call = this.call;
    const pc = call.pc;
    if (!pc || call.closed) return;
    if (pc.signalingState !== 'stable') {
      // An exchange is under way; its answer brings the new description, or we try again.
      this.offerWanted = { restart };
      return;
    }
    this.makingOffer = true;
    try {
      const offer = await pc.createOffer(restart ? { iceRestart: true } : undefined);
      if (call.closed) return;
      await pc.setLocalDescription(offer);
      if (call.closed) return;
      const sdp = pc.localDescription?.sdp ?? offer.sdp ?? '';
      if (this.send({ type: 'call.offer', call_id: call.callId, sdp })) {
        this.offerWanted = null;
      } else {
        // Not connected: take the offer back and send a fresh one after the rejoin.
        this.offerWanted = { restart };
        await pc.setLocalDescription({ type: 'rollback' });
      }
    } finally {
      this.makingOffer = false;
    }
  }

  private async applyDescription(description: RTCSessionDescriptionInit): Promise<void> {
    const call = this.call;
    const pc = call.pc;
    if (!pc || call.closed) return;
    const collision = description.type === 'offer' && (this.makingOffer || pc.signalingState !== 'stable');
    // Perfect negotiation: the caller is impolite and keeps its own offer; the callee yields.
    this.ignoreOffer = call.role === 'caller' && collision;
    if (this.ignoreOffer) return;
    if (description.type === 'answer' && pc.signalingState !== 'have-local-offer') return; // a stale answer
    if (collision) await pc.setLocalDescription({ type: 'rollback' });
    await pc.setRemoteDescription(description);
    if (call.closed) return;
    await this.flushCandidates();
    if (description.type === 'offer') {
      const answer = await pc.createAnswer();
      if (call.closed) return;
      await pc.setLocalDescription(answer);
      if (call.closed) return;
      this.send({ type: 'call.answer', call_id: call.callId, sdp: pc.localDescription?.sdp ?? answer.sdp ?? '' });
    }
    // An offer of ours that had to wait for this exchange.
    if (this.offerWanted && pc.signalingState === 'stable') {
      const { restart } = this.offerWanted;
      this.offerWanted = null;
      await this.makeOffer(restart);
    }
  }

  private async addCandidate(candidate: IceCandidateJson | null): Promise<void> {
    const pc = this.call.pc;
    if (!pc || !pc.remoteDescription) {
      this.pending.push(candidate);
      return;
    }
    try {
      await pc.addIceCandidate(candidate ?? undefined);
    } catch (err) {
      // Candidates of an offer we ignored (glare) fail harmlessly.
      if (!this.ignoreOffer) console.warn('calls: could not add an ICE candidate', err);
    }
  }

  private async flushCandidates(): Promise<void> {
    const pending = this.pending;
    this.pending = [];
    for (const c of pending) await this.addCandidate(c);
  }
}
