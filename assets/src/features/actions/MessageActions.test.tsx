// @vitest-environment happy-dom
/**
 * A bubble inside a conversation (ConversationActionsProvider) with fake services: the
 * hover menu's actions reach the change service, reactions toggle from their chips, a reply
 * quote jumps, a tombstone offers nothing, mentions of me are marked, an edit saves on Enter
 * and cancels on Escape.
 */
import { act } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Conversation } from '../../api';
import type { ChatMessage } from '../../stores';
import { BOB, conversation, ME, unchanged } from '../../test/fixtures';
import { click, fakeServices, render, type FakeServices, type Rendered } from '../../test/services';
import { MessageBubble } from '../chat/MessageBubble';
import { ConversationActionsProvider } from './ConversationActionsProvider';

let view: Rendered | null = null;
afterEach(() => {
  view?.unmount();
  view = null;
});

const msg = (overrides: Partial<ChatMessage> = {}): ChatMessage => ({
  key: 'm2',
  id: 'm2',
  client_id: null,
  conversation_id: 'c1',
  seq: 2,
  sender_id: 'bob',
  body: 'Lunch @me?',
  kind: 'text',
  created_at: '2026-11-28T05:00:00Z',
  status: 'stored',
  error: null,
  attachments: [],
  ...unchanged,
  ...overrides,
});

function show(m: ChatMessage, { c = conversation(), editing = false }: { c?: Conversation; editing?: boolean } = {}): FakeServices {
  const services = fakeServices();
  services.store.getState().conversationsUpserted(c);
  view = render(
    <ConversationActionsProvider conversation={c}>
      <MessageBubble message={m} own={m.sender_id === ME.id} first last senderName="Bob" isGroup={c.kind === 'group'} tick={null} seen={null} fresh={false} onRetry={vi.fn()} onDiscard={vi.fn()} onOpenImage={vi.fn()} editing={editing} />
    </ConversationActionsProvider>,
    services,
  );
  return services;
}

const q = (sel: string) => view!.container.querySelector<HTMLElement>(sel);
const menuItem = (label: string) => [...document.querySelectorAll<HTMLButtonElement>('[role="menuitem"]')].find((b) => b.textContent === label);

describe('bubble actions', () => {
  it('someone else’s message in a direct chat: react, reply, and a menu with pin and copy but no edit or delete', () => {
    const services = show(msg());
    expect(q('[role="toolbar"]')).not.toBeNull();
    click(view!.button('More actions'));
    expect([...document.querySelectorAll('[role="menuitem"]')].map((b) => b.textContent)).toEqual(['Reply', 'Pin', 'Copy text']);
    click(menuItem('Pin')!);
    expect(services.changes.pin).toHaveBeenCalledWith('c1', 'm2', true);
  });

  it('Reply puts the message above the composer (the drafts slice)', () => {
    const services = show(msg());
    click(view!.button('Reply'));
    expect(services.store.getState().drafts.replyTo.c1).toMatchObject({ id: 'm2', seq: 2, snippet: 'Lunch @me?' });
  });

  it('the quick bar reacts; a chip toggles mine and names who reacted', () => {
    const services = show(msg({ reactions: [{ emoji: '🎉', count: 2, user_ids: ['bob', 'me'] }] }));
    click(view!.button('React'));
    click(document.querySelector<HTMLButtonElement>('button[aria-label="React with 👍"]')!);
    expect(services.changes.react).toHaveBeenCalledWith('c1', 'm2', '👍');
    const chip = q('[data-testid="reaction"]')!;
    expect(chip.getAttribute('aria-pressed')).toBe('true');
    expect(chip.getAttribute('title')).toBe('You and Bob');
    click(chip);
    expect(services.changes.react).toHaveBeenLastCalledWith('c1', 'm2', '🎉');
  });

  it('a reply’s quote asks for a jump to its original', () => {
    const services = show(msg({ reply_to: { id: 'm1', seq: 1, sender_id: 'me', snippet: 'first', deleted: false, attachments: 0 } }));
    click(q('[data-testid="quoted-reply"]')!);
    expect(services.store.getState().messages.jump).toMatchObject({ conversationId: 'c1', seq: 1 });
  });

  it('a tombstone says so and offers nothing', () => {
    show(msg({ body: '', deleted_at: 't', deleted_by: 'bob' }));
    expect(q('[data-testid="message"]')!.textContent).toContain('Message deleted');
    expect(q('[role="toolbar"]')).toBeNull();
  });

  it('a mention of me is marked as mine', () => {
    show(msg({ mentions: ['me'] }));
    expect(q('[data-mention="me"]')?.textContent).toBe('@me');
  });

  it('my own message: edit saves on Enter; Escape cancels', () => {
    const services = show(msg({ sender_id: 'me', body: 'hello' }), { editing: true });
    const box = q('textarea')!;
    act(() => {
      const set = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!;
      set.call(box, 'hello there');
      box.dispatchEvent(new Event('input', { bubbles: true }));
    });
    act(() => {
      box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    });
    expect(services.changes.edit).toHaveBeenCalledWith('c1', 'm2', 'hello there');
    services.store.getState().draftEditSet('c1', 'm2');
    act(() => {
      q('textarea')!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    });
    expect(services.store.getState().drafts.editing.c1).toBeUndefined();
  });

  it('in a group, a member cannot pin or delete others’ messages; an admin can', () => {
    const group = (role: string) => conversation({ kind: 'group', members: [{ user: ME, role }, { user: BOB, role: 'member' }] });
    show(msg(), { c: group('member') });
    click(view!.button('More actions'));
    expect([...document.querySelectorAll('[role="menuitem"]')].map((b) => b.textContent)).toEqual(['Reply', 'Copy text']);
    view!.unmount();
    view = null;
    show(msg(), { c: group('admin') });
    click(view!.button('More actions'));
    expect([...document.querySelectorAll('[role="menuitem"]')].map((b) => b.textContent)).toEqual(['Reply', 'Pin', 'Copy text', 'Delete']);
  });
});
