import type { ChatMessage } from '../messages/reducer';
import type { Pointers, ReceiptsState } from './reducer';

interface WithReceipts {
  receipts: ReceiptsState;
}

/**
 * What an own message's ticks show: pending (clock) → sent ✓ → delivered ✓✓ → read (blue ✓✓),
 * or failed. Delivered and read mean every other member got / read it.
 */
export type TickState = 'pending' | 'sent' | 'delivered' | 'read' | 'failed';

const NONE: Record<string, Pointers> = {};

export function tickState(
  message: Pick<ChatMessage, 'status' | 'seq'>,
  pointers: Record<string, Pointers> | undefined,
  otherMemberIds: readonly string[],
): TickState {
  if (message.status === 'failed') return 'failed';
  if (message.status === 'pending') return 'pending';
  if (message.status === 'sent' || message.seq === null) return 'sent';
  const seq = message.seq;
  const p = pointers ?? NONE;
  if (otherMemberIds.length === 0) return 'read';
  if (otherMemberIds.every((id) => (p[id]?.read_seq ?? 0) >= seq)) return 'read';
  if (otherMemberIds.every((id) => Math.max(p[id]?.delivered_seq ?? 0, p[id]?.read_seq ?? 0) >= seq)) {
    return 'delivered';
  }
  return 'sent';
}

/** The members (other than the viewer) who have read up to `seq`, in the given order. */
export function seenBy(
  seq: number,
  pointers: Record<string, Pointers> | undefined,
  otherMemberIds: readonly string[],
): string[] {
  const p = pointers ?? NONE;
  return otherMemberIds.filter((id) => (p[id]?.read_seq ?? 0) >= seq);
}

/** "Seen by Bob", "Seen by Bob and Carol", "Seen by Bob, Carol and Dave", "Seen by 5 people". */
export function seenByLabel(names: readonly string[], everyone: boolean): string | null {
  if (names.length === 0) return null;
  if (everyone && names.length > 3) return 'Seen by everyone';
  if (names.length > 3) return `Seen by ${names.length} people`;
  if (names.length === 1) return `Seen by ${names[0]}`;
  return `Seen by ${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

export const receiptsSelectors = {
  pointers: (s: WithReceipts, conversationId: string): Record<string, Pointers> | undefined =>
    s.receipts.byConversation[conversationId],
  of: (s: WithReceipts, conversationId: string, userId: string): Pointers | undefined =>
    s.receipts.byConversation[conversationId]?.[userId],
};
