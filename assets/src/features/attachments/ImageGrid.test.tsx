// @vitest-environment happy-dom
/**
 * Image bubbles rendered alone: sized before loading, a grid for several, a click opens the
 * lightbox at that image; an own image still uploading shows its progress, and such a
 * message can be cancelled.
 */
import { act } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChatAttachment, ChatMessage } from '../../stores';
import { unchanged } from '../../test/fixtures';
import { click, fakeServices, render, type Rendered } from '../../test/services';
import { MessageBubble } from '../chat/MessageBubble';

let view: Rendered | null = null;
afterEach(() => {
  view?.unmount();
  view = null;
});

const img = (key: string, id: string | null = key): ChatAttachment => ({
  key,
  id,
  mime: 'image/jpeg',
  width: 4000,
  height: 3000,
  blurhash: null,
  url: `/o/${key}`,
  preview: `/p/${key}`,
  thumbnail: `/t/${key}`,
});

const msg = (attachments: ChatAttachment[], overrides: Partial<ChatMessage> = {}): ChatMessage => ({
  key: 'k1',
  id: 'm1',
  client_id: 'c-1',
  conversation_id: 'c1',
  seq: 1,
  sender_id: 'me',
  body: '',
  kind: 'text',
  created_at: '2026-11-28T05:00:00Z',
  status: 'stored',
  error: null,
  attachments,
  ...unchanged,
  ...overrides,
});

function bubble(m: ChatMessage, services = fakeServices()) {
  const onOpenImage = vi.fn();
  const onDiscard = vi.fn();
  view = render(
    <MessageBubble message={m} own first last senderName="You" isGroup={false} tick={null} seen={null} fresh={false} onRetry={vi.fn()} onDiscard={onDiscard} onOpenImage={onOpenImage} />,
    services,
  );
  return { onOpenImage, onDiscard, services };
}

describe('image bubbles', () => {
  it('one image: its proportions, from the preview, sized before it loads', () => {
    const { onOpenImage } = bubble(msg([img('a')]));
    const box = view!.container.querySelector<HTMLElement>('[data-testid="attachment"]')!.parentElement!;
    expect([box.style.width, box.style.height]).toEqual(['288px', '216px']);
    expect(view!.container.querySelector('img')?.getAttribute('src')).toBe('/p/a');
    click(view!.button('Open image'));
    expect(onOpenImage).toHaveBeenCalledWith('a');
  });

  it('several: a grid of thumbnails, each opening its own', () => {
    const { onOpenImage } = bubble(msg([img('a'), img('b'), img('c')]));
    expect([...view!.container.querySelectorAll('img')].map((i) => i.getAttribute('src'))).toEqual(['/t/a', '/t/b', '/t/c']);
    click(view!.button('Open image 3 of 3'));
    expect(onOpenImage).toHaveBeenCalledWith('c');
  });

  it('an own image still uploading shows its progress; the message can be cancelled', () => {
    const services = fakeServices();
    services.store.getState().uploadsAdded({
      id: 'a',
      conversationId: 'c1',
      name: 'a.jpg',
      bytes: 100,
      mime: 'image/jpeg',
      localUrl: 'blob:a',
      width: 4000,
      height: 3000,
      status: 'uploading',
      loaded: 0,
      total: 100,
      error: null,
      attachment: null,
      clientId: null,
    });
    const { onDiscard } = bubble(msg([img('a', null)], { status: 'pending', seq: null, id: null }), services);
    act(() => services.store.getState().uploadsProgressed('a', 30, 100));
    expect(view!.container.querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow')).toBe('30');
    click(view!.button('Cancel sending'));
    expect(onDiscard).toHaveBeenCalled();
  });
});
