// @vitest-environment happy-dom
/**
 * A conversation row rendered alone, with fake services: a plain click opens the
 * conversation through the navigation it was given; a modified click is left to the browser.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { conversation, ME } from '../../test/fixtures';
import { click, fakeServices, render, type Rendered } from '../../test/services';
import { ConversationRow } from './ConversationRow';

let view: Rendered | null = null;
afterEach(() => {
  view?.unmount();
  view = null;
});

describe('ConversationRow', () => {
  it('opens its conversation on a click, and shows the other member’s name', () => {
    const services = fakeServices();
    const c = conversation();
    services.store.getState().conversationsUpserted(c);
    view = render(<ConversationRow conversation={c} myId={ME.id} active={false} />, services);
    const link = view.container.querySelector('a')!;
    expect(link.textContent).toContain('Bob');
    click(link);
    expect(services.navigation.open).toHaveBeenCalledWith('c1');
  });

  it('a ctrl-click (new tab) does not navigate here', () => {
    const services = fakeServices();
    const c = conversation();
    view = render(<ConversationRow conversation={c} myId={ME.id} active={false} />, services);
    const link = view.container.querySelector('a')!;
    link.addEventListener('click', (e) => e.preventDefault()); // keep happy-dom from following it
    link.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, button: 0, ctrlKey: true }));
    expect(services.navigation.open).not.toHaveBeenCalled();
  });

  it('a group with a call going on says so, with how many are in it', () => {
    const services = fakeServices();
    const c = conversation({ id: 'g1', kind: 'group', name: 'Crew' });
    const p = (user_id: string) => ({ user_id, joined_at: 't', audio_muted: false, video_muted: false, screen_sharing: false });
    services.store.getState().roomsReady([{ conversation_id: 'g1', room_id: 'r', started_at: 't', participants: [p('bob'), p('carol')] }]);
    view = render(<ConversationRow conversation={c} myId={ME.id} active={false} />, services);
    expect(view.container.querySelector('[data-testid="row-call"]')?.textContent).toBe('2');
    expect(view.container.querySelector('a')!.getAttribute('aria-label')).toBe('Crew, call in progress');
  });
});
