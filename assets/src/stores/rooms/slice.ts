import type { StateCreator } from 'zustand';
import type { RoomSpeaker, RoomView } from '../../gateway/protocol';
import { initialRoomsState, roomsReducer, type RoomMedia, type RoomsAction, type RoomsState } from './reducer';

export interface RoomsSlice {
  rooms: RoomsState;
  roomsReady(rooms: RoomView[]): void;
  roomsState(room: RoomView): void;
  roomsJoinRequested(conversationId: string, media: RoomMedia): void;
  roomsJoined(room: RoomView, maxVideoKbps: number): void;
  roomsRejoining(conversationId: string, afterReconnect?: boolean): void;
  roomsMediaConnected(conversationId: string): void;
  roomsMediaInterrupted(conversationId: string, interrupted: boolean): void;
  roomsNoCamera(conversationId: string): void;
  roomsMicToggled(conversationId: string): void;
  roomsCameraToggled(conversationId: string): void;
  roomsScreenSharing(conversationId: string, on: boolean): void;
  roomsSpeakers(conversationId: string, speakers: RoomSpeaker[]): void;
  roomsLeft(conversationId: string, reason: string): void;
  roomsReset(): void;
}

export const createRoomsSlice =
  <S extends RoomsSlice>(): StateCreator<S, [], [], RoomsSlice> =>
  (set) => {
    const dispatch = (action: RoomsAction) =>
      set((s) => {
        const next = roomsReducer(s.rooms, action);
        return (next === s.rooms ? s : { rooms: next }) as Partial<S>;
      });
    return {
      rooms: initialRoomsState,
      roomsReady: (rooms) => dispatch({ type: 'ready', rooms }),
      roomsState: (room) => dispatch({ type: 'state', room }),
      roomsJoinRequested: (conversationId, media) => dispatch({ type: 'joinRequested', conversationId, media }),
      roomsJoined: (room, maxVideoKbps) => dispatch({ type: 'joined', room, maxVideoKbps }),
      roomsRejoining: (conversationId, afterReconnect) => dispatch({ type: 'rejoining', conversationId, afterReconnect }),
      roomsMediaConnected: (conversationId) => dispatch({ type: 'mediaConnected', conversationId }),
      roomsMediaInterrupted: (conversationId, interrupted) => dispatch({ type: 'mediaInterrupted', conversationId, interrupted }),
      roomsNoCamera: (conversationId) => dispatch({ type: 'noCamera', conversationId }),
      roomsMicToggled: (conversationId) => dispatch({ type: 'micToggled', conversationId }),
      roomsCameraToggled: (conversationId) => dispatch({ type: 'cameraToggled', conversationId }),
      roomsScreenSharing: (conversationId, on) => dispatch({ type: 'screenSharing', conversationId, on }),
      roomsSpeakers: (conversationId, speakers) => dispatch({ type: 'speakers', conversationId, speakers }),
      roomsLeft: (conversationId, reason) => dispatch({ type: 'left', conversationId, reason }),
      roomsReset: () => dispatch({ type: 'reset' }),
    };
  };
