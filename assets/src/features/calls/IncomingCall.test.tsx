// @vitest-environment happy-dom
/**
 * The incoming-call screen rendered alone, with fake services: it shows who calls and
 * hands Accept and Decline to the call controller it was given.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CallView } from '../../gateway/protocol';
import { BOB, conversation, ME } from '../../test/fixtures';
import { click, fakeServices, render, type Rendered } from '../../test/services';
import { IncomingCall } from './IncomingCall';

const ringing = (media: 'audio' | 'video'): CallView => ({
  call_id: 'k1',
  conversation_id: 'c1',
  media,
  caller_id: BOB.id,
  callee_id: ME.id,
  state: 'ringing',
  reason: null,
  caller_session: 's-bob',
  callee_session: null,
  created_at: 't',
  answered_at: null,
  ended_at: null,
});

function ringingServices(media: 'audio' | 'video' = 'video') {
  const services = fakeServices();
  const s = services.store.getState();
  s.conversationsUpserted(conversation());
  s.callsReady('s-me', new Date().toISOString(), []);
  s.callsServerEvent('ringing', ringing(media));
  return services;
}

let view: Rendered | null = null;
afterEach(() => {
  view?.unmount();
  view = null;
});

describe('IncomingCall', () => {
  it('says who is calling and how', () => {
    view = render(<IncomingCall />, ringingServices('video'));
    expect(view.container.querySelector('h2')?.textContent).toBe('Bob');
    expect(view.container.querySelector('[data-testid="call-status"]')?.textContent).toMatch(/video/i);
    expect(view.container.textContent).toContain('Accept video');
  });

  it('Accept and Decline go to the call controller it was given', () => {
    const services = ringingServices('audio');
    view = render(<IncomingCall />, services);
    click(view.button('Accept call'));
    expect(services.calls.accept).toHaveBeenCalledTimes(1);
    expect(services.calls.decline).not.toHaveBeenCalled();
    click(view.button('Decline call'));
    expect(services.calls.decline).toHaveBeenCalledTimes(1);
  });

  it('while accepting, the Accept button waits', () => {
    const services = ringingServices();
    services.store.getState().callsAccepting('k1');
    view = render(<IncomingCall />, services);
    expect(view.button('Accept call').disabled).toBe(true);
  });
});
