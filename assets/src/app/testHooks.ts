/**
 * The hooks the browser tests (assets/e2e) reach through `window`, kept out of the call
 * controller's API: `window.__nexusIceTransportPolicy = 'relay'` (or `?ice=relay` in the
 * address) forces every call through the TURN relay, and `window.__nexusCall.pc` is the
 * live peer connection while there is one.
 */
import type { CallObserver } from '../features/calls/deps';

declare global {
  interface Window {
    /** Test/config hook: 'relay' forces every call through the TURN relay. */
    __nexusIceTransportPolicy?: RTCIceTransportPolicy;
    /** The live peer connection of the current call, for browser tests. */
    __nexusCall?: { pc: RTCPeerConnection };
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
