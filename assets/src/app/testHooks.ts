/**
 * The hooks the browser tests (assets/e2e) reach through `window`, kept out of the call
 * controller's API: `window.__nexusIceTransportPolicy = 'relay'` (or `?ice=relay` in the
 * address) forces every call through the TURN relay, and `window.__nexusCall.pc` is the
 * live peer connection while there is one; `window.__nexusRoom.pc` is the group call's.
 */
import type { CallObserver } from '../features/calls/deps';
import type { RoomObserver } from '../features/rooms/deps';

declare global {
  interface Window {
    /** Test/config hook: 'relay' forces every call through the TURN relay. */
    __nexusIceTransportPolicy?: RTCIceTransportPolicy;
    /** The live peer connection of the current call, for browser tests. */
    __nexusCall?: { pc: RTCPeerConnection };
    /** The live peer connection of the group call (room) this tab is in, for browser tests. */
    __nexusRoom?: { pc: RTCPeerConnection; conversationId: string };
  }
}

// Read once: the router rewrites the query string as conversations open.
const relayFromUrl = typeof window !== 'undefined' && new URLSearchParams(window.location.search).get('ice') === 'relay';

/** 'relay' when a test (or the address) asks for TURN only. */
export function forcedIcePolicy(): RTCIceTransportPolicy | undefined {
  return window.__nexusIceTransportPolicy === 'relay' || relayFromUrl || new URLSearchParams(window.location.search).get('ice') === 'relay'
    ? 'relay'
    : undefined;
}

/** Publishes the live peer connection as window.__nexusCall. */
export const exposeCallToTests: CallObserver = {
  peerConnection: (pc) => {
    if (pc) window.__nexusCall = { pc };
    else delete window.__nexusCall;
  },
};

/** Publishes the group call's live peer connection as window.__nexusRoom. */
export const exposeRoomToTests: RoomObserver = {
  peerConnection: (pc, conversationId) => {
    if (pc && conversationId) window.__nexusRoom = { pc, conversationId };
    else delete window.__nexusRoom;
  },
};
