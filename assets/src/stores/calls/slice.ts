import type { StateCreator } from 'zustand';
import type { CallEndReason, CallMedia, CallView } from '../../gateway/protocol';
import type { SessionSlice } from '../session/slice';
import { callsReducer, initialCallsState, type CallsAction, type CallsState } from './reducer';

export interface CallsSlice {
  calls: CallsState;
  callsReady(sessionId: string, serverTime: string, calls: CallView[]): void;
  callsServerEvent(event: 'ringing' | 'state', call: CallView): void;
  callsInvited(callId: string, conversationId: string, media: CallMedia, peerId: string): void;
  callsAccepting(callId: string): void;
  callsAccepted(callId: string): void;
  callsDeclined(callId: string): void;
  callsEndedLocally(callId: string, reason: CallEndReason): void;
  callsMediaConnected(callId: string): void;
  callsMediaInterrupted(callId: string, interrupted: boolean): void;
  callsAudioOnly(callId: string): void;
  callsMicToggled(callId: string): void;
  callsCameraToggled(callId: string): void;
  callsCleared(callId: string): void;
  callsError(callId: string, code: string): void;
  callsReset(): void;
}

export const createCallsSlice =
  <S extends CallsSlice & SessionSlice>(now: () => number = Date.now): StateCreator<S, [], [], CallsSlice> =>
  (set, get) => {
    const dispatch = (action: CallsAction) =>
      set((s) => {
        const next = callsReducer(s.calls, action);
        return (next === s.calls ? s : { calls: next }) as Partial<S>;
      });
    const myId = () => get().session.user?.id ?? '';
    return {
      calls: initialCallsState,
      callsReady: (sessionId, serverTime, calls) =>
        dispatch({ type: 'ready', sessionId, serverTime: Date.parse(serverTime), now: now(), myId: myId(), calls }),
      callsServerEvent: (event, call) => dispatch({ type: 'server', event, call, myId: myId() }),
      callsInvited: (callId, conversationId, media, peerId) =>
        dispatch({ type: 'invited', callId, conversationId, media, peerId }),
      callsAccepting: (callId) => dispatch({ type: 'accepting', callId }),
      callsAccepted: (callId) => dispatch({ type: 'accepted', callId }),
      callsDeclined: (callId) => dispatch({ type: 'declined', callId }),
      callsEndedLocally: (callId, reason) => dispatch({ type: 'endedLocally', callId, reason }),
      callsMediaConnected: (callId) => dispatch({ type: 'mediaConnected', callId, now: now() }),
      callsMediaInterrupted: (callId, interrupted) => dispatch({ type: 'mediaInterrupted', callId, interrupted }),
      callsAudioOnly: (callId) => dispatch({ type: 'audioOnly', callId }),
      callsMicToggled: (callId) => dispatch({ type: 'micToggled', callId }),
      callsCameraToggled: (callId) => dispatch({ type: 'cameraToggled', callId }),
      callsCleared: (callId) => dispatch({ type: 'cleared', callId }),
      callsError: (callId, code) => dispatch({ type: 'error', callId, code }),
      callsReset: () => dispatch({ type: 'reset' }),
    };
  };
