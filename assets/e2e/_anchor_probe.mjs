import { Bot, launchBrowser, openContext, serverUnderTest, signInContext, sleep, suffix } from './lib.mjs';
const server = await serverUnderTest();
const browser = await launchBrowser();
try {
  const t = suffix();
  const a = await Bot.register(server.url, `pa_${t}`, 'Probe A');
  const b = await Bot.register(server.url, `pb_${t}`, 'Probe B');
  const c = await a.direct(b.user.id);
  for (let i = 1; i <= 400; i++) await b.post(c.id, `line ${i}` + (i % 7 === 0 ? '\nwith a second line' : ''));
  await a.waitForCount(c.id, 400);
  const { context, page } = await openContext(browser, {});
  await signInContext(context, server.url, a);
  await page.goto(`${server.url}/?c=${c.id}`);
  const log = page.getByRole('log');
  await log.locator('[data-seq="400"]').waitFor();
  const state = () => page.evaluate(() => {
    const el = document.querySelector('[role=log]');
    const top = el.getBoundingClientRect().top;
    const seqs = [...el.querySelectorAll('[data-testid=message]')].map((b) => [Number(b.dataset.seq), Math.round(b.getBoundingClientRect().top - top)]);
    const firstVisible = seqs.filter(([, y]) => y >= 0).sort((x, y) => x[1] - y[1])[0];
    return { scrollTop: Math.round(el.scrollTop), minSeq: Math.min(...seqs.map((s) => s[0])), firstVisible };
  });
  console.log('opened', await state());
  const trace = await log.evaluate(async (el) => {
    el.scrollTop = 0;
    const out = [];
    for (let i = 0; i < 40; i++) {
      await new Promise((r) => requestAnimationFrame(r));
      const seqs = [...el.querySelectorAll('[data-testid=message]')].map((b) => Number(b.dataset.seq));
      out.push(`${Math.round(el.scrollTop)}/${Math.min(...seqs)}/${el.scrollHeight}`);
    }
    return out.join(' ');
  });
  console.log('trace', trace);
  console.log('right after scrollTop=0', await state());
  await sleep(2000);
  console.log('2 s later', await state());
  await log.evaluate((el) => { el.scrollTop = 0; });
  await sleep(2000);
  console.log('again 2 s later', await state());
  await log.evaluate((el) => el.scrollBy(0, -300));
  await sleep(1500);
  console.log('scrolled up 300 more', await state());
} finally { await browser.close(); await server.close(); }
