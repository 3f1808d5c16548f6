// @vitest-environment happy-dom
/**
 * The search panel alone, with a stubbed API: debounced requests with the filters, the
 * server's markers as <mark> (never HTML), paging by next_cursor, and a click that opens
 * the message.
 */
import { act } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { NexusApi, SearchQuery } from '../../api';
import { conversation, message } from '../../test/fixtures';
import { click, fakeServices, render, type Rendered } from '../../test/services';
import SearchPanel, { SEARCH_DEBOUNCE_MS, searchQuery } from './SearchPanel';

let view: Rendered | null = null;
afterEach(() => {
  view?.unmount();
  view = null;
});

const wait = (ms: number) => act(() => new Promise<void>((r) => setTimeout(r, ms)));

function type(input: HTMLInputElement, text: string) {
  act(() => {
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(input, text);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

describe('SearchPanel', () => {
  it('asks once the typing pauses, marks the matches as text, pages, and jumps to a result', async () => {
    const services = fakeServices();
    const c = conversation();
    services.store.getState().conversationsUpserted(c);
    const search = vi.fn(async (q: SearchQuery) =>
      q.cursor
        ? { results: [{ message: message(1, { body: 'older lunch' }), snippet: 'older \u0002lunch\u0003' }], next_cursor: null }
        : { results: [{ message: message(7, { body: '<b>lunch</b> at noon' }), snippet: '<b>\u0002lunch\u0003</b> at noon' }], next_cursor: 'n1' },
    );
    services.api = { changes: { search } } as unknown as NexusApi;
    const onClose = vi.fn();
    view = render(<SearchPanel conversation={c} onClose={onClose} />, services);
    const input = view.container.querySelector<HTMLInputElement>('input[type="search"]')!;
    type(input, 'lu');
    type(input, 'lunch');
    await wait(SEARCH_DEBOUNCE_MS + 50);
    expect(search).toHaveBeenCalledTimes(1);
    expect(search.mock.calls[0]![0]).toMatchObject({ q: 'lunch', conversation_id: 'c1' });
    const result = view.container.querySelector('[data-testid="search-result"]')!;
    expect(result.querySelector('mark')?.textContent).toBe('lunch');
    expect(result.querySelector('b')).toBeNull();
    expect(result.textContent).toContain('<b>lunch</b> at noon');
    click([...view.container.querySelectorAll('button')].find((b) => b.textContent === 'More results')!);
    await wait(10);
    expect(search.mock.calls[1]![0]).toMatchObject({ cursor: 'n1' });
    expect(view.container.querySelectorAll('[data-testid="search-result"]')).toHaveLength(2);
    click(result);
    expect(services.store.getState().messages.jump).toMatchObject({ conversationId: 'c1', seq: 7 });
  });

  it('the filters make the query: dates are whole local days; no words, no query', () => {
    const f = { q: ' x ', here: false, sender: 'bob', from: '2026-11-01', to: '2026-11-02', images: true };
    const q = searchQuery(f, 'c1')!;
    expect(q).toMatchObject({ q: 'x', conversation_id: undefined, sender_id: 'bob', has: 'image' });
    expect(new Date(q.after!).getDate()).toBe(1);
    expect(new Date(q.before!).getHours()).toBe(23);
    expect(searchQuery({ ...f, q: '  ' }, 'c1')).toBeNull();
  });
});
