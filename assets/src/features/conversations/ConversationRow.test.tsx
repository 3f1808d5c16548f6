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
});
