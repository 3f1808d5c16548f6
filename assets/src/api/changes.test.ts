import { describe, expect, it, vi } from 'vitest';
import { createChangesApi } from './changes';
import type { HttpClient, RequestOptions } from './http';

/** An HttpClient that records what it was asked and answers `answer`. */
function fakeHttp(answer: unknown = {}) {
  const calls: Array<{ path: string; options: RequestOptions | undefined }> = [];
  const http = {
    request: vi.fn(async (path: string, options?: RequestOptions) => {
      calls.push({ path, options });
      return answer;
    }),
  } as unknown as HttpClient;
  return { api: createChangesApi(http), calls };
}

describe('changes API', () => {
  it('edit, delete and pin address the message; the edit carries its client_id', async () => {
    const { api, calls } = fakeHttp();
    await api.edit('c 1', 'm/1', 'k1', 'new');
    await api.remove('c1', 'm1');
    await api.pin('c1', 'm1', true);
    await api.pin('c1', 'm1', false);
    expect(calls.map((c) => [c.options?.method, c.path])).toEqual([
      ['PATCH', '/conversations/c%201/messages/m%2F1'],
      ['DELETE', '/conversations/c1/messages/m1'],
      ['PUT', '/conversations/c1/messages/m1/pin'],
      ['DELETE', '/conversations/c1/messages/m1/pin'],
    ]);
    expect(calls[0]!.options?.body).toEqual({ client_id: 'k1', body: 'new' });
  });

  it('a reaction is PUT on and DELETE off, the emoji URL-encoded', async () => {
    const { api, calls } = fakeHttp();
    await api.react('c1', 'm1', '👍🏽', true);
    await api.react('c1', 'm1', '❤️', false);
    expect(calls[0]).toMatchObject({ path: '/conversations/c1/messages/m1/reactions/%F0%9F%91%8D%F0%9F%8F%BD', options: { method: 'PUT' } });
    expect(calls[1]).toMatchObject({ path: `/conversations/c1/messages/m1/reactions/${encodeURIComponent('❤️')}`, options: { method: 'DELETE' } });
  });

  it('changes: after and limit in the query; a malformed answer reads as no changes', async () => {
    const { api, calls } = fakeHttp(null);
    expect(await api.changes('c1', 7)).toEqual({ messages: [], last_change_seq: 7 });
    expect(calls[0]!.path).toBe('/conversations/c1/changes?after=7&limit=200');
  });

  it('search: only the filters given, encoded; no cursor means the last page', async () => {
    const { api, calls } = fakeHttp({ results: [{ message: {}, snippet: 'a' }], next_cursor: '' });
    const page = await api.search({ q: 'lunch & co', conversation_id: 'c1', has: 'image', sender_id: undefined });
    expect(calls[0]!.path).toBe('/search?q=lunch%20%26%20co&conversation_id=c1&has=image');
    expect(page.next_cursor).toBeNull();
    expect(page.results).toHaveLength(1);
  });

  it('versions and pins are lists (anything else reads as empty)', async () => {
    const { api, calls } = fakeHttp({ not: 'a list' });
    expect(await api.versions('c1', 'm1')).toEqual([]);
    expect(await api.pins('c1')).toEqual([]);
    expect(calls.map((c) => c.path)).toEqual(['/conversations/c1/messages/m1/versions', '/conversations/c1/pins']);
  });
});
