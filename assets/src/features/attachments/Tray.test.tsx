// @vitest-environment happy-dom
/**
 * The composer's tray and attach button rendered with fake services: each image shows its
 * upload's progress, can be cancelled or removed, and a failure is said inline; Send takes
 * the tray along through the upload queue.
 */
import { act } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Upload } from '../../stores';
import { click, fakeServices, render, type Rendered } from '../../test/services';
import { Composer } from '../chat/Composer';

let view: Rendered | null = null;
afterEach(() => {
  view?.unmount();
  view = null;
});

const upload = (id: string, overrides: Partial<Upload> = {}): Upload => ({
  id,
  conversationId: 'c1',
  name: `${id}.png`,
  bytes: 1000,
  mime: 'image/png',
  localUrl: `blob:${id}`,
  width: 40,
  height: 30,
  status: 'uploading',
  loaded: 0,
  total: 1000,
  error: null,
  attachment: null,
  clientId: null,
  ...overrides,
});

describe('the tray', () => {
  it('shows a progress bar per uploading image, following the upload', () => {
    const services = fakeServices();
    services.store.getState().uploadsAdded(upload('a'));
    services.store.getState().uploadsAdded(upload('b'));
    view = render(<Composer conversationId="c1" title="Bob" />, services);
    const bars = () => [...view!.container.querySelectorAll('[role="progressbar"]')].map((b) => [b.getAttribute('aria-label'), b.getAttribute('aria-valuenow')]);
    expect(bars()).toEqual([
      ['Uploading a.png', '0'],
      ['Uploading b.png', '0'],
    ]);
    act(() => services.store.getState().uploadsProgressed('a', 420, 1000));
    expect(bars()[0]).toEqual(['Uploading a.png', '42']);
    act(() => services.store.getState().uploadsFinished('a', { id: 'x' } as never));
    expect(bars()).toEqual([['Uploading b.png', '0']]);
    expect(view.container.querySelector('[data-status="done"] [aria-label="Uploaded"]')).not.toBeNull();
  });

  it('cancels a running upload, removes a finished one', () => {
    const services = fakeServices();
    services.store.getState().uploadsAdded(upload('a'));
    services.store.getState().uploadsAdded(upload('b', { status: 'done' }));
    view = render(<Composer conversationId="c1" title="Bob" />, services);
    click(view.button('Cancel upload of a.png'));
    click(view.button('Remove b.png'));
    expect(services.uploads.remove.mock.calls).toEqual([['a'], ['b']]);
  });

  it('says why an image failed, inline', () => {
    const services = fakeServices();
    services.store.getState().uploadsAdded(upload('a'));
    services.store.getState().uploadsFailed('a', 'unsupported_media_type');
    view = render(<Composer conversationId="c1" title="Bob" />, services);
    const alert = view.container.querySelector('[role="alert"]');
    expect(alert?.textContent).toContain('a.png: Not a supported image');
    expect(view.button('Remove a.png')).toBeTruthy();
    // Only a failed image and no text: nothing to send.
    expect(view.button('Send message').disabled).toBe(true);
  });

  it('Send goes through the upload queue, with images alone allowed', () => {
    const services = fakeServices();
    services.store.getState().uploadsAdded(upload('a'));
    view = render(<Composer conversationId="c1" title="Bob" />, services);
    expect(view.button('Send message').disabled).toBe(false);
    click(view.button('Send message'));
    expect(services.uploads.send).toHaveBeenCalledWith('c1', '', null);
    expect(services.gateway.send).not.toHaveBeenCalled();
  });

  it('the attach button opens the file picker for images', () => {
    const services = fakeServices();
    view = render(<Composer conversationId="c1" title="Bob" />, services);
    const input = view.container.querySelector<HTMLInputElement>('input[type="file"]')!;
    expect(input.accept).toBe('image/jpeg,image/png,image/webp,image/gif');
    expect(input.multiple).toBe(true);
    let opened = 0;
    input.click = () => void opened++;
    click(view.button('Attach images'));
    expect(opened).toBe(1);
  });
});
