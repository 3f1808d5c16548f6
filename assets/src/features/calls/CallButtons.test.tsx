// @vitest-environment happy-dom
/**
 * The call buttons rendered alone, with fake services: they start a call through the
 * controller they were given, and are off while no call can be started.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BOB } from '../../test/fixtures';
import { click, fakeServices, render, type Rendered } from '../../test/services';
import { CallButtons } from './CallButtons';

let view: Rendered | null = null;
afterEach(() => {
  view?.unmount();
  view = null;
});

describe('CallButtons', () => {
  it('start an audio or a video call with the peer of the conversation', () => {
    const services = fakeServices();
    services.store.getState().callsReady('s-me', new Date().toISOString(), []);
    view = render(<CallButtons conversationId="c1" peer={BOB} />, services);
    click(view.button('Start video call'));
    expect(services.calls.startCall).toHaveBeenCalledWith('c1', BOB.id, 'video');
    click(view.button('Start audio call'));
    expect(services.calls.startCall).toHaveBeenLastCalledWith('c1', BOB.id, 'audio');
  });

  it('are disabled while offline', () => {
    const services = fakeServices();
    services.store.getState().callsReady('s-me', new Date().toISOString(), []);
    services.store.getState().connectionChanged('offline');
    view = render(<CallButtons conversationId="c1" peer={BOB} />, services);
    expect(view.button('Start video call').disabled).toBe(true);
    click(view.button('Start video call'));
    expect(services.calls.startCall).not.toHaveBeenCalled();
  });
});
