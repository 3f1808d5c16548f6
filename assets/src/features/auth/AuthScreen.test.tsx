// @vitest-environment happy-dom
/**
 * The auth screen: an invite link opens sign-up with the code filled in; on an invite-only
 * server with no account yet, sign-up comes first, says this account will administer the
 * server, and asks for no code.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fakeServices, render, type Rendered } from '../../test/services';
import { AuthScreen } from './AuthScreen';

let view: Rendered | null = null;
afterEach(() => {
  view?.unmount();
  view = null;
});

function anonymousOn(setupRequired: boolean) {
  const services = fakeServices();
  services.store.getState().sessionSignedOut();
  services.store.getState().serverLoaded({ name: 'Home', version: '1', registration: 'invite', setup_required: setupRequired });
  return services;
}

const input = (v: Rendered, name: string) => v.container.querySelector<HTMLInputElement>(`input[name="${name}"]`);

describe('AuthScreen', () => {
  it('an invite link opens sign-up with its code filled in', () => {
    view = render(<AuthScreen inviteCode="CODE1" />, anonymousOn(false));
    expect(input(view, 'displayName')).not.toBeNull();
    expect(input(view, 'inviteCode')?.value).toBe('CODE1');
    expect(view.container.textContent).toContain('Filled in from your invite link.');
  });

  it('without a link, an invite-only server opens on sign-in', () => {
    view = render(<AuthScreen inviteCode={null} />, anonymousOn(false));
    expect(input(view, 'displayName')).toBeNull();
  });

  it('the first account on an invite-only server needs no code', () => {
    view = render(<AuthScreen inviteCode={null} />, anonymousOn(true));
    expect(input(view, 'displayName')).not.toBeNull();
    expect(input(view, 'inviteCode')).toBeNull();
    expect(view.container.querySelector('[data-testid="setup-hint"]')).not.toBeNull();
  });
});
