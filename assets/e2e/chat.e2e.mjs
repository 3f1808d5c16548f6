/**
 * End-to-end: chat in the web client against a running Nexus server, in headless Chromium.
 *
 *   NEXUS_URL=http://127.0.0.1:8080 npm run e2e
 *
 * "two people": alice and bob (random suffixes) register in two browser profiles; alice
 * starts a direct chat with bob through "New chat", and each sees the other "Online"
 * without a reload; they exchange messages; bob sees alice
 * typing; alice's ticks turn to read while bob has the chat open; a reload keeps the
 * history; bob goes offline, alice sends three messages, bob comes back and shows each
 * exactly once; images (e2e/image-steps.mjs: attach, paste, drop, lightbox, a phone); carol
 * joins and alice's group of three shows "Seen by"; carol leaves it.
 *
 * "long history": a group with NEXUS_E2E_LONG_COUNT messages (default 10,000), seeded
 * through POST /api/v1/conversations/{id}/messages by several bot members within
 * NEXUS_E2E_SEED_MS (default 150 s; at the default rate limit of 10 messages/s per user,
 * 8 senders need about 2 minutes for 10,000). If the budget runs out first, the test goes
 * on with what was seeded, provided it is at least 2,000, and says so. It opens the group
 * and scrolls to the very first message, page by page, checking the DOM never holds 200
 * bubbles or more.
 *
 * Env: NEXUS_URL (loopback only), NEXUS_E2E_FAKE=1 (use e2e/dev-fake-server.mjs instead —
 * UI work only), CHROMIUM, NEXUS_INVITE_CODE, NEXUS_E2E_LONG_COUNT, NEXUS_E2E_SEED_MS,
 * NEXUS_E2E_SEED_SENDERS (default 8). Every wait in the browser is bounded by 15 s; on a
 * failure a screenshot of each page goes to e2e/artifacts/.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { imageSteps } from './image-steps.mjs';
import { Bot, launchBrowser, openContext, password, serverUnderTest, signInContext, sleep, STEP_MS, suffix, until } from './lib.mjs';

const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const LONG_COUNT = Number(process.env.NEXUS_E2E_LONG_COUNT ?? 10_000);
const LONG_MIN = Math.min(2_000, LONG_COUNT);
const SEED_MS = Number(process.env.NEXUS_E2E_SEED_MS ?? 150_000);
const SEED_SENDERS = Number(process.env.NEXUS_E2E_SEED_SENDERS ?? 8);
const MAX_BUBBLES = 200;

let server;
let browser;
const diagnostics = [];
/** Pages to photograph when a step fails. */
const pages = new Map();

/** Runs one step with a bounded time; after a failure the remaining steps of the suite are skipped. */
function steps() {
  let failed = false;
  return (name, fn, timeoutMs = STEP_MS * 3) =>
    it(name, { timeout: timeoutMs + 5_000 }, async (t) => {
      if (failed) return t.skip('an earlier step failed');
      try {
        await fn(t);
      } catch (err) {
        failed = true;
        await mkdir(ARTIFACTS, { recursive: true });
        const shots = [];
        for (const [who, page] of pages) {
          const shot = join(ARTIFACTS, `chat-${name.replace(/[^a-z0-9]+/gi, '-')}-${who}.png`);
          if (await page.screenshot({ path: shot, fullPage: true }).then(() => true, () => false)) shots.push(shot);
        }
        const said = diagnostics.length ? `\nBrowser said:\n  ${diagnostics.slice(-20).join('\n  ')}` : '';
        err.message = `step "${name}" failed: ${err.message}\nScreenshots: ${shots.join(', ') || 'none'}${said}`;
        throw err;
      }
    });
}

const visible = (locator, timeout = STEP_MS) => locator.waitFor({ state: 'visible', timeout });



/** A person in a browser profile of their own. */
async function person(name, displayName) {
  const { context, page } = await openContext(browser, { diagnostics, name });
  pages.set(name, page);
  return { name, displayName, username: `${name}_${suffix()}`, password: password(), context, page };
}

async function register(p) {
  await p.page.goto(server.url, { waitUntil: 'domcontentloaded' });
  await p.page.getByRole('tab', { name: 'Create account' }).click();
  await p.page.getByLabel('Display name', { exact: true }).fill(p.displayName);
  await p.page.getByLabel('Username', { exact: true }).fill(p.username);
  await p.page.getByLabel('Password', { exact: true }).fill(p.password);
  if (process.env.NEXUS_INVITE_CODE) {
    await p.page.getByLabel('Invite code', { exact: true }).fill(process.env.NEXUS_INVITE_CODE);
  }
  await p.page.getByRole('button', { name: 'Create account', exact: true }).click();
  await visible(p.page.getByRole('navigation', { name: 'Conversations' }));
  await visible(p.page.getByRole('button', { name: 'New chat' }));
}

const composer = (p) => p.page.getByRole('textbox', { name: 'Message' });
const bubbles = (p) => p.page.getByTestId('message');
const bubble = (p, text) => bubbles(p).filter({ hasText: text });

async function say(p, text) {
  await composer(p).fill(text);
  await composer(p).press('Enter');
  await visible(bubble(p, text));
}

/** The conversation's link in the sidebar list. */
const conversationLink = (p, name) => p.page.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name });

async function open(p, name) {
  await conversationLink(p, name).click();
  await visible(p.page.getByRole('heading', { level: 2, name }));
}

const tick = (p, text) => bubble(p, text).getByRole('img');

before(async () => {
  server = await serverUnderTest();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await server?.close();
});


/**
 * Cut a browser profile off the network (Playwright's offline emulation) and tell the page
 * as the browser would. Inside a loopback-only network namespace Chromium reports offline
 * from the start (`navigator.onLine` is false), so it fires no `offline`/`online` events of
 * its own when the emulation changes; dispatching them keeps the test the same everywhere.
 */
async function goOffline(p) {
  await p.context.setOffline(true);
  await p.page.evaluate(() => window.dispatchEvent(new Event('offline')));
}

async function goOnline(p) {
  await p.context.setOffline(false);
  await p.page.evaluate(() => window.dispatchEvent(new Event('online')));
}

describe('chat between two people, then three', () => {
  const step = steps();
  const tag = suffix();
  let alice;
  let bob;
  let carol;
  const msg = (text) => `${text} [${tag}]`;

  step('alice and bob register in two browsers', async () => {
    [alice, bob] = await Promise.all([person('alice', `Alice ${tag}`), person('bob', `Bob ${tag}`)]);
    await Promise.all([register(alice), register(bob)]);
  });

  step('alice starts a direct chat with bob from "New chat"', async () => {
    await alice.page.getByRole('button', { name: 'New chat' }).click();
    const dialog = alice.page.getByRole('dialog', { name: 'New chat' });
    await visible(dialog);
    await dialog.getByLabel('Search people').fill(bob.username);
    await dialog.getByRole('button', { name: `Chat with ${bob.displayName} (@${bob.username})` }).click();
    await visible(alice.page.getByRole('heading', { level: 2, name: bob.displayName }));
    assert.equal(await dialog.count(), 0, 'the dialog closes');
    assert.match(alice.page.url(), /[?&]c=[\w-]+/, 'the open conversation is in the URL');
    // Bob is connected: the new chat shows him online at once, without a reload.
    await visible(alice.page.getByText('Online', { exact: true }).first());
  });

  step('they exchange messages', async () => {
    await say(alice, msg('Hi Bob 👋'));
    // The conversation reaches bob's list in real time (conversation.updated / message.new).
    await visible(conversationLink(bob, alice.displayName));
    await open(bob, alice.displayName);
    await visible(bubble(bob, msg('Hi Bob 👋')));
    // And bob, who never reloaded either, sees alice online.
    await visible(bob.page.getByText('Online', { exact: true }).first());
    await say(bob, msg('Hello Alice! https://example.com/docs'));
    await visible(bubble(alice, msg('Hello Alice! https://example.com/docs')));
    const link = bubble(alice, msg('Hello Alice! https://example.com/docs')).getByRole('link', { name: 'https://example.com/docs' });
    assert.equal(await link.getAttribute('rel'), 'noopener noreferrer nofollow');
    assert.equal(await link.getAttribute('target'), '_blank');
  });

  step('bob sees alice typing, and the hint goes when she stops', async () => {
    await composer(alice).pressSequentially('I am typ', { delay: 40 });
    await visible(bob.page.getByText(`${alice.displayName} is typing…`).first());
    await composer(alice).fill('');
    await bob.page.getByText(`${alice.displayName} is typing…`).first().waitFor({ state: 'hidden', timeout: STEP_MS });
  });

  step('alice’s ticks turn read (blue) while bob has the chat open', async () => {
    await say(alice, msg('Can you read this?'));
    await visible(tick(alice, msg('Can you read this?')).and(alice.page.getByRole('img', { name: 'Read' })));
    assert.equal(await tick(alice, msg('Can you read this?')).getAttribute('data-state'), 'read');
  });

  step('a reload keeps the history, and the draft', async () => {
    await composer(alice).fill('half a thought');
    await alice.page.reload({ waitUntil: 'domcontentloaded' });
    await visible(alice.page.getByRole('heading', { level: 2, name: bob.displayName }));
    for (const text of [msg('Hi Bob 👋'), msg('Hello Alice! https://example.com/docs'), msg('Can you read this?')]) {
      await visible(bubble(alice, text));
      assert.equal(await bubble(alice, text).count(), 1, `"${text}" once after the reload`);
    }
    assert.equal(await composer(alice).inputValue(), 'half a thought');
    await composer(alice).fill('');
  });

  step('bob goes offline, alice sends three messages, bob catches up each exactly once', async () => {
    const before = await bubbles(bob).count();
    await goOffline(bob);
    await visible(bob.page.getByText(/You’re offline/));
    const texts = [1, 2, 3].map((i) => msg(`While you were away ${i}`));
    for (const text of texts) await say(alice, text);
    // Stored, but bob has not received them: no double tick yet.
    for (const text of texts) {
      await until(`"${text}" stored`, async () => (await bubble(alice, text).getAttribute('data-status')) === 'stored');
      assert.equal(await tick(alice, text).getAttribute('data-state'), 'sent', `"${text}" is sent, not delivered`);
    }
    assert.equal(await bubbles(bob).filter({ hasText: 'While you were away' }).count(), 0, 'nothing arrived while offline');

    await goOnline(bob);
    for (const text of texts) await visible(bubble(bob, text));
    await sleep(1_500); // late live copies or a second catch-up would show up by now
    for (const text of texts) assert.equal(await bubble(bob, text).count(), 1, `"${text}" exactly once`);
    assert.equal(await bubbles(bob).count(), before + 3, 'three new bubbles, no more');
    // Bob has the chat open: alice's messages turn read.
    await visible(tick(alice, texts[2]).and(alice.page.getByRole('img', { name: 'Read' })));
  });

  // Images: attach, paste, drop, the lightbox, a phone (e2e/image-steps.mjs).
  imageSteps(step, () => ({ server, browser, diagnostics, pages, alice, bob, tag }));

  step('carol joins; alice’s group of three shows "Seen by"', async () => {
    carol = await person('carol', `Carol ${tag}`);
    await register(carol);

    await alice.page.getByRole('button', { name: 'New group' }).click();
    const dialog = alice.page.getByRole('dialog', { name: 'New group' });
    await visible(dialog);
    await dialog.getByLabel('Group name').fill(`Trio ${tag}`);
    for (const p of [bob, carol]) {
      await dialog.getByLabel('Add people').fill(p.username);
      await dialog.getByRole('button', { name: `${p.displayName} (@${p.username})` }).click();
      await visible(dialog.getByRole('button', { name: `Remove ${p.displayName}` }));
    }
    await dialog.getByRole('button', { name: 'Create group' }).click();
    await visible(alice.page.getByRole('heading', { level: 2, name: `Trio ${tag}` }));

    await say(alice, msg('Hello group'));
    await Promise.all([open(bob, `Trio ${tag}`), open(carol, `Trio ${tag}`)]);
    await visible(bubble(bob, msg('Hello group')));
    await visible(bubble(carol, msg('Hello group')));
    await visible(alice.page.getByText(`Seen by ${bob.displayName} and ${carol.displayName}`).or(alice.page.getByText(`Seen by ${carol.displayName} and ${bob.displayName}`)));
    await visible(tick(alice, msg('Hello group')).and(alice.page.getByRole('img', { name: 'Read' })));
    // In a group, others' names label their bubbles.
    await say(bob, msg('Hi both'));
    await visible(carol.page.getByRole('log').getByText(bob.displayName, { exact: true }));
  });

  step('carol leaves the group', async () => {
    await carol.page.getByRole('button', { name: 'Group options' }).click();
    await carol.page.getByRole('menuitem', { name: /Leave group/ }).click();
    const confirm = carol.page.getByRole('dialog', { name: `Leave Trio ${tag}?` });
    await visible(confirm);
    await confirm.getByRole('button', { name: 'Leave group' }).click();
    await conversationLink(carol, `Trio ${tag}`).waitFor({ state: 'detached', timeout: STEP_MS });
    assert.doesNotMatch(carol.page.url(), /[?&]c=/, 'the URL no longer names the group');
    // The others see two members now.
    await visible(alice.page.getByText(/^2 members/));
  });

  after(async () => {
    for (const p of [alice, bob, carol]) await p?.context.close().catch(() => undefined);
    for (const k of ['alice', 'bob', 'carol']) pages.delete(k);
  });
});

describe('a conversation with a long history', () => {
  const step = steps();
  const tag = suffix();
  let viewer;
  let group;
  let seeded = 0;
  const senders = [];
  let page;
  let context;

  step(
    `seeds up to ${LONG_COUNT} messages through the REST pipeline`,
    async () => {
      viewer = await Bot.register(server.url, `reader_${tag}`, `Reader ${tag}`);
      for (let i = 0; i < SEED_SENDERS; i++) senders.push(await Bot.register(server.url, `bot${i}_${tag}`, `Bot ${i}`));
      group = await viewer.group(`Archive ${tag}`, senders.map((b) => b.user.id));
      const deadline = Date.now() + SEED_MS;
      let next = 0;
      await Promise.all(
        senders.map(async (bot) => {
          while (next < LONG_COUNT && Date.now() < deadline) {
            const n = ++next;
            await bot.post(group.id, `Seeded message ${n} from ${bot.user.display_name}`);
            seeded++;
          }
        }),
      );
      await viewer.waitForCount(group.id, seeded, 30_000);
      if (seeded < LONG_COUNT) {
        console.log(`# seeded ${seeded} of ${LONG_COUNT} messages within ${SEED_MS / 1000} s (rate limits); going on with ${seeded}`);
      } else {
        console.log(`# seeded ${seeded} messages`);
      }
      assert.ok(seeded >= LONG_MIN, `only ${seeded} messages could be seeded in ${SEED_MS / 1000} s; at least ${LONG_MIN} are needed`);
    },
    SEED_MS + 35_000,
  );

  step(
    'opens at the latest message and scrolls to the first, page by page, with a bounded DOM',
    async () => {
      ({ context, page } = await openContext(browser, { diagnostics, name: 'reader' }));
      pages.set('reader', page);
      await signInContext(context, server.url, viewer);
      await page.goto(`${server.url}/?c=${group.id}`, { waitUntil: 'domcontentloaded' });
      const log = page.getByRole('log');
      await visible(log.locator(`[data-seq="${seeded}"]`));

      const seqs = () =>
        page.evaluate(() => {
          const els = [...document.querySelectorAll('[data-testid="message"]')];
          const s = els.map((e) => Number(e.getAttribute('data-seq'))).filter((n) => n > 0);
          return { count: els.length, min: Math.min(...s), max: Math.max(...s) };
        });

      let most = 0;
      let { min } = await seqs();
      const pagesNeeded = Math.ceil(seeded / 100) + 10;
      for (let i = 0; i < pagesNeeded && min > 1; i++) {
        // To the top of what is loaded; that asks for the page before it.
        const top = await log.evaluate(async (el) => {
          el.scrollTop = 0;
          await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
          const s = [...el.querySelectorAll('[data-testid="message"]')].map((b) => Number(b.getAttribute('data-seq')));
          return Math.min(...s.filter((n) => n > 0));
        });
        if (top === 1) {
          min = 1;
          break;
        }
        await until(`messages older than #${top}`, async () => {
          const now = await seqs();
          most = Math.max(most, now.count);
          assert.ok(now.count < MAX_BUBBLES, `${now.count} bubbles in the DOM`);
          min = now.min;
          if (now.min < top) return true;
          // Keep scrolling up, as a person would: the previous page's scroll correction may
          // have landed after our scroll and moved the view away from the top.
          await log.evaluate((el) => {
            el.scrollTop = 0;
          });
          return false;
        });
      }
      assert.equal(min, 1, 'reached the first message');
      await visible(log.getByText('This is the beginning of the group.'));
      await visible(log.locator('[data-seq="1"]'));
      console.log(`# scrolled through ${seeded} messages; at most ${most} bubbles were in the DOM`);

      // Back to the latest: the jump button.
      await page.getByRole('button', { name: /Jump to latest/ }).click();
      await visible(log.locator(`[data-seq="${seeded}"]`));
      assert.ok((await seqs()).count < MAX_BUBBLES);
    },
    Math.max(60_000, Math.ceil(LONG_COUNT / 100) * 2_000),
  );

  after(async () => {
    for (const b of [viewer, ...senders]) b?.close();
    await context?.close().catch(() => undefined);
    pages.delete('reader');
  });
});
