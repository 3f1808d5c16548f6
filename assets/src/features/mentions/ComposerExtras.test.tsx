// @vitest-environment happy-dom
/**
 * The composer's reply preview and mention autocomplete, rendered alone with fake services.
 */
import { act } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { BOB, CAROL, conversation, ME } from '../../test/fixtures';
import { click, fakeServices, render, type Rendered } from '../../test/services';
import { Composer } from '../chat/Composer';

let view: Rendered | null = null;
afterEach(() => {
  view?.unmount();
  view = null;
});

const group = conversation({ kind: 'group', name: 'Crew', members: [{ user: ME, role: 'admin' }, { user: BOB, role: 'member' }, { user: CAROL, role: 'member' }] });

function type(box: HTMLTextAreaElement, text: string) {
  act(() => {
    const set = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!;
    set.call(box, text);
    box.setSelectionRange(text.length, text.length);
    box.dispatchEvent(new Event('input', { bubbles: true }));
  });
}
const key = (box: HTMLElement, k: string) => act(() => void box.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true, cancelable: true })));

describe('composer: replies', () => {
  it('shows what it answers; × cancels; sending takes the reply along and clears it', () => {
    const services = fakeServices();
    services.store.getState().conversationsUpserted(conversation());
    services.store.getState().draftReplySet('c1', { id: 'm1', seq: 1, sender_id: 'bob', snippet: 'Lunch?', deleted: false, attachments: 0 });
    view = render(<Composer conversationId="c1" title="Bob" />, services);
    expect(view.container.querySelector('[data-testid="reply-preview"]')?.textContent).toContain('Replying to Bob');
    const box = view.container.querySelector('textarea')!;
    expect(box.placeholder).toBe('Reply to Bob');
    type(box, 'Yes!');
    click(view.button('Send message'));
    expect(services.uploads.send).toHaveBeenCalledWith('c1', 'Yes!', expect.objectContaining({ id: 'm1' }));
    expect(services.store.getState().drafts.replyTo.c1).toBeUndefined();
    act(() => services.store.getState().draftReplySet('c1', { id: 'm1', seq: 1, sender_id: 'bob', snippet: 'Lunch?', deleted: false, attachments: 0 }));
    click(view.button('Cancel reply'));
    expect(services.store.getState().drafts.replyTo.c1).toBeUndefined();
  });
});

describe('composer: mentions', () => {
  it('@ lists the group’s members but me; arrows move, Enter inserts the username without sending', () => {
    const services = fakeServices();
    services.store.getState().conversationsUpserted(group);
    view = render(<Composer conversationId="c1" title="Crew" />, services);
    const box = view.container.querySelector('textarea')!;
    type(box, 'hi @');
    const options = () => [...view!.container.querySelectorAll('[role="option"]')];
    expect(options().map((o) => o.textContent?.replace(/^[A-Z]/, ''))).toEqual(['Bob@bob', 'Carol@carol']);
    expect(box.getAttribute('aria-activedescendant')).toBe(options()[0]!.id);
    key(box, 'ArrowDown');
    expect(options()[1]!.getAttribute('aria-selected')).toBe('true');
    key(box, 'Enter');
    expect(services.store.getState().drafts.byConversation.c1).toBe('hi @carol ');
    expect(services.uploads.send).not.toHaveBeenCalled();
  });

  it('Escape closes the list; a direct chat has none', () => {
    const services = fakeServices();
    services.store.getState().conversationsUpserted(group);
    view = render(<Composer conversationId="c1" title="Crew" />, services);
    const box = view.container.querySelector('textarea')!;
    type(box, '@b');
    expect(view.container.querySelector('[role="listbox"]')).not.toBeNull();
    key(box, 'Escape');
    expect(view.container.querySelector('[role="listbox"]')).toBeNull();
    view.unmount();
    const direct = fakeServices();
    direct.store.getState().conversationsUpserted(conversation());
    view = render(<Composer conversationId="c1" title="Bob" />, direct);
    type(view.container.querySelector('textarea')!, '@b');
    expect(view.container.querySelector('[role="listbox"]')).toBeNull();
  });
});
