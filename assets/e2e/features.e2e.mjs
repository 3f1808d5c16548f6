/**
 * End-to-end: the conversation features in the web client against a running Nexus server,
 * in headless Chromium, with two people in two browser profiles.
 *
 *   NEXUS_URL=http://127.0.0.1:8080 npm run e2e:features
 *   NEXUS_E2E_FAKE=1 npm run e2e:features          # against e2e/dev-fake-server.mjs (UI work only)
 *
 * alice and bob (random suffixes, registered through the API, signed in through the login
 * cookie) share a group that alice administers. Through the UI: bob replies to alice from
 * the hover menu and alice sees the quoted reply, whose click flashes the original; alice
 * edits her message in its bubble (Enter) and bob sees it "edited", with both versions in
 * the history; bob reacts from the quick bar, alice's chip click adds and removes hers; alice
 * deletes a message and both see the tombstone; bob mentions alice through the autocomplete
 * and alice, in another conversation, gets the "@" badge and then the highlighted mention;
 * alice pins a message and finds it in the pinned panel; alice searches and a result jumps
 * to its message, marked; bob goes offline, alice edits, and bob catches the change up when
 * he is back, without a reload.
 *
 * Env: NEXUS_URL (loopback only), NEXUS_E2E_FAKE=1, CHROMIUM, NEXUS_INVITE_CODE. Every wait
 * is bounded by 15 s; on a failure a screenshot of each page goes to e2e/artifacts/.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Bot, launchBrowser, openContext, serverUnderTest, signInContext, STEP_MS, suffix } from './lib.mjs';

const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));

let server;
let browser;
const diagnostics = [];
const pages = new Map();

/** Runs one step with a bounded time; after a failure the remaining steps are skipped. */
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
          const shot = join(ARTIFACTS, `features-${name.replace(/[^a-z0-9]+/gi, '-')}-${who}.png`);
          if (await page.screenshot({ path: shot }).then(() => true, () => false)) shots.push(shot);
        }
        const said = diagnostics.length ? `\nBrowser said:\n  ${diagnostics.slice(-20).join('\n  ')}` : '';
        err.message = `step "${name}" failed: ${err.message}\nScreenshots: ${shots.join(', ') || 'none'}${said}`;
        throw err;
      }
    });
}

const visible = (locator, timeout = STEP_MS) => locator.waitFor({ state: 'visible', timeout });

/** A bot (API user), and a browser profile signed in as it once `browse` is called. */
async function person(name, displayName) {
  const bot = await Bot.register(server.url, `${name}_${suffix()}`, displayName);
  const p = { name, displayName, bot, context: null, page: null };
  p.browse = async () => {
    const { context, page } = await openContext(browser, { diagnostics, name });
    pages.set(name, page);
    await signInContext(context, server.url, bot);
    await page.goto(server.url, { waitUntil: 'domcontentloaded' });
    await visible(page.getByRole('navigation', { name: 'Conversations' }));
    Object.assign(p, { context, page });
  };
  return p;
}

const composer = (p) => p.page.getByRole('textbox', { name: 'Message' });
/** A bubble by its own text (not a reply that only quotes it). */
const bubble = (p, text) =>
  p.page.getByTestId('message').filter({ hasText: text, hasNot: p.page.getByTestId('quoted-reply').filter({ hasText: text }) });
/** The column that holds a bubble, its hover menu and its reactions. */
const around = (p, text) => p.page.getByTestId('message-column').filter({ has: bubble(p, text) });
const conversationLink = (p, name) => p.page.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name });

async function say(p, text) {
  await composer(p).fill(text);
  await composer(p).press('Enter');
  await visible(bubble(p, text).and(p.page.locator('[data-status="stored"]')));
}

async function open(p, name) {
  await conversationLink(p, name).click();
  await visible(p.page.getByRole('heading', { level: 2, name }));
}

/** Hovers a bubble and clicks one of its hover-menu buttons. */
async function hoverAction(p, text, label) {
  await bubble(p, text).hover();
  await around(p, text).getByRole('button', { name: label, exact: true }).click();
}

async function goOffline(p) {
  await p.context.setOffline(true);
  await p.page.evaluate(() => window.dispatchEvent(new Event('offline')));
}

async function goOnline(p) {
  await p.context.setOffline(false);
  await p.page.evaluate(() => window.dispatchEvent(new Event('online')));
}

before(async () => {
  server = await serverUnderTest();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await server?.close();
});

describe('conversation features between two people', () => {
  const step = steps();
  const tag = suffix();
  const group = `Features ${tag}`;
  const msg = (text) => `${text} [${tag}]`;
  let alice;
  let bob;

  step('alice and bob share a group that alice administers', async () => {
    [alice, bob] = await Promise.all([person('alice', `Alice ${tag}`), person('bob', `Bob ${tag}`)]);
    await alice.bot.group(group, [bob.bot.user.id]);
    await Promise.all([alice.browse(), bob.browse()]);
    await Promise.all([open(alice, group), open(bob, group)]);
    await say(alice, msg('Who brings the tent?'));
    await visible(bubble(bob, msg('Who brings the tent?')));
  });

  step('bob replies from the hover menu; alice sees the quote, and its click flashes the original', async () => {
    await hoverAction(bob, msg('Who brings the tent?'), 'Reply');
    await visible(bob.page.getByTestId('reply-preview').getByText(msg('Who brings the tent?')));
    await say(bob, msg('I will'));
    assert.equal(await bob.page.getByTestId('reply-preview').count(), 0, 'the preview goes once sent');
    const quote = bubble(alice, msg('I will')).getByTestId('quoted-reply');
    await visible(quote.getByText(msg('Who brings the tent?')));
    await quote.click();
    await visible(alice.page.locator('[data-testid="message"][data-highlighted]').filter({ hasText: msg('Who brings the tent?') }));
  });

  step('alice edits her message in its bubble; bob sees it edited, with both versions', async () => {
    await hoverAction(alice, msg('Who brings the tent?'), 'More actions');
    await alice.page.getByRole('menuitem', { name: 'Edit' }).click();
    const editor = alice.page.getByRole('textbox', { name: 'Edit message' });
    await editor.fill(msg('Who brings the big tent?'));
    await editor.press('Enter');
    await visible(bubble(bob, msg('Who brings the big tent?')).getByRole('button', { name: /Edited/ }));
    // The quote in bob's reply follows the edit too.
    await visible(bubble(bob, msg('I will')).getByTestId('quoted-reply').getByText(msg('Who brings the big tent?')));
    await bubble(bob, msg('Who brings the big tent?')).getByRole('button', { name: /Edited/ }).click();
    const history = bob.page.getByRole('dialog', { name: 'Edit history' });
    await visible(history.getByText(msg('Who brings the tent?')));
    await visible(history.getByText(msg('Who brings the big tent?')));
    await history.getByRole('button', { name: 'Close' }).click();
  });

  step('bob reacts from the quick bar; alice’s chip click adds and removes hers', async () => {
    await hoverAction(bob, msg('Who brings the big tent?'), 'React');
    await bob.page.getByRole('button', { name: 'React with 👍' }).click();
    const aliceChip = around(alice, msg('Who brings the big tent?')).getByTestId('reaction').filter({ hasText: '👍' });
    await visible(aliceChip.filter({ hasText: '1' }));
    assert.equal(await aliceChip.getAttribute('aria-pressed'), 'false');
    await aliceChip.click();
    await visible(aliceChip.filter({ hasText: '2' }));
    assert.equal(await aliceChip.getAttribute('aria-pressed'), 'true');
    await visible(around(bob, msg('Who brings the big tent?')).getByTestId('reaction').filter({ hasText: '2' }));
    await aliceChip.click();
    await visible(aliceChip.filter({ hasText: '1' }));
    assert.equal(await aliceChip.getAttribute('aria-pressed'), 'false');
  });

  step('alice deletes a message; both see the tombstone', async () => {
    await say(alice, msg('Oops, wrong chat'));
    await visible(bubble(bob, msg('Oops, wrong chat')));
    await hoverAction(alice, msg('Oops, wrong chat'), 'More actions');
    await alice.page.getByRole('menuitem', { name: 'Delete' }).click();
    await alice.page.getByRole('dialog', { name: 'Delete message?' }).getByRole('button', { name: 'Delete' }).click();
    for (const p of [alice, bob]) {
      await bubble(p, msg('Oops, wrong chat')).waitFor({ state: 'detached', timeout: STEP_MS });
      await visible(p.page.locator('[data-testid="message"][data-deleted]').filter({ hasText: 'Message deleted' }));
    }
  });

  step('bob mentions alice through the autocomplete; alice gets the badge, then the highlight', async () => {
    // alice looks at another conversation meanwhile.
    await alice.bot.group(`Elsewhere ${tag}`, []);
    await open(alice, `Elsewhere ${tag}`);
    await composer(bob).fill('');
    await composer(bob).pressSequentially('Thanks @');
    await composer(bob).pressSequentially(alice.bot.user.username.slice(0, 4));
    const list = bob.page.getByRole('listbox', { name: 'Mention someone' });
    await visible(list.getByRole('option', { name: new RegExp(alice.displayName) }));
    await composer(bob).press('Enter');
    assert.match(await composer(bob).inputValue(), new RegExp(`^Thanks @${alice.bot.user.username} $`));
    await composer(bob).pressSequentially(`for the tent [${tag}]`);
    await composer(bob).press('Enter');
    await visible(conversationLink(alice, new RegExp(`${group}.*1 mention`)));
    await open(alice, group);
    await visible(bubble(alice, `for the tent [${tag}]`).locator('[data-mention="me"]'));
  });

  step('alice pins a message and finds it in the pinned panel', async () => {
    await hoverAction(alice, msg('I will'), 'More actions');
    await alice.page.getByRole('menuitem', { name: 'Pin' }).click();
    await visible(bubble(bob, msg('I will')).getByTitle('Pinned'));
    await alice.page.getByRole('button', { name: 'Pinned messages' }).click();
    await visible(alice.page.getByTestId('pinned-message').filter({ hasText: msg('I will') }));
    await alice.page.getByRole('button', { name: 'Close panel' }).click();
  });

  step('alice searches; a result is marked and jumps to its message', async () => {
    await alice.page.getByRole('button', { name: 'Search messages' }).click();
    await alice.page.getByRole('searchbox', { name: 'Search for' }).fill(`big tent ${tag}`);
    const hit = alice.page.getByTestId('search-result').first();
    await visible(hit.locator('mark').first());
    const marked = (await hit.locator('mark').allTextContents()).join(' ');
    assert.match(marked, /big|tent/i, 'the matches are marked');
    assert.equal(await hit.locator('b, script, img').count(), 0, 'the snippet is text, not HTML');
    await hit.click();
    await visible(alice.page.locator('[data-testid="message"][data-highlighted]').filter({ hasText: msg('Who brings the big tent?') }));
    await alice.page.getByRole('button', { name: 'Close panel' }).click();
  });

  step('bob misses an edit while offline and catches it up when he is back', async () => {
    await goOffline(bob);
    await hoverAction(alice, msg('Who brings the big tent?'), 'More actions');
    await alice.page.getByRole('menuitem', { name: 'Edit' }).click();
    const editor = alice.page.getByRole('textbox', { name: 'Edit message' });
    await editor.fill(msg('Who brings the biggest tent?'));
    await editor.press('Enter');
    await visible(bubble(alice, msg('Who brings the biggest tent?')));
    assert.equal(await bubble(bob, msg('Who brings the biggest tent?')).count(), 0, 'bob is offline');
    await goOnline(bob);
    // No reload: the reconnect finds the list's last_change_seq ahead and fetches the change.
    await visible(bubble(bob, msg('Who brings the biggest tent?')), STEP_MS * 2);
  }, STEP_MS * 3);
});
