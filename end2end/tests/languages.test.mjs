// Huddle in Chinese, in Chromium set to Simplified Chinese and to
// Shanghai's time zone: the site's pages, a doctor's (sign up, sign in,
// room, schedule, dashboard, admit) and a patient's way (pre-join check,
// lobby) into a consultation and the call (controls, chat) read Chinese
// throughout with times in Shanghai's, axe finds nothing serious there, and
// the language switch works without JavaScript.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { localMeeting, newPerson, serverAndBrowser, waitForHydration, waitForRemoteVideos } from './support.mjs';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const CHINESE = { locale: 'zh-CN', timezoneId: 'Asia/Shanghai' };
const shots = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

async function noSeriousViolations(page, what) {
  await page.evaluate(axeSource);
  const { violations } = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`);
  assert.deepEqual(bad, [], `${what}: ${bad.join('; ')}`);
}

/** Latin-letter words a person reads on `page` (text, labels, tooltips,
 * placeholders, alt texts), leaving out what is not Huddle's to translate:
 * names and codes (Huddle, UTC, …), addresses and time zones
 * (`name@example.org`, `Asia/Shanghai`), device names, and parts marked as
 * another language. */
function latinWords(page, names = []) {
  return page.evaluate((names) => {
    const kept = ['Huddle', 'UTC', 'CSV', 'IP', 'TURN', ...names];
    const words = [];
    const foreign = (el) => el.closest('[lang]:not(html)') || el.closest('script, style, option, noscript');
    const add = (text) => words.push(...text.split(/[^\x21-\x7e]+/).filter((token) => !/[@/]/.test(token))
      .flatMap((token) => token.match(/[A-Za-z]{2,}/g) ?? []).filter((w) => !kept.includes(w)));
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      if (!foreign(node.parentElement) && node.parentElement.closest('[hidden]') === null) add(node.textContent);
    }
    for (const el of document.body.querySelectorAll('[aria-label], [title], [placeholder], [alt]')) {
      if (foreign(el)) continue;
      for (const name of ['aria-label', 'title', 'placeholder', 'alt']) if (el.hasAttribute(name)) add(el.getAttribute(name));
    }
    return words;
  }, names);
}

describe('Huddle in Chinese', () => {
  const env = serverAndBrowser();

  it('the site and a patient’s way into a consultation read Chinese, with no serious accessibility problems', async () => {
    const visitor = await newPerson(env.browser, CHINESE);
    for (const [path, heading] of [['/', '私密视频会面，运行在您自己的服务器上'], ['/login', '登录'], ['/signup', '创建您的账户']]) {
      await visitor.page.goto(`${env.server.origin}${path}`);
      assert.equal(await visitor.page.locator('html').getAttribute('lang'), 'zh-CN');
      await visitor.page.getByRole('heading', { name: heading, level: 1 }).waitFor();
      assert.deepEqual(await latinWords(visitor.page), [], `${path} reads English`);
      await noSeriousViolations(visitor.page, path);
    }

    // The doctor: signs up and in, makes a consultation room and schedules
    // a follow-up in five minutes, in Chinese and Shanghai's time.
    const host = await newPerson(env.browser, CHINESE);
    const { page } = host;
    await page.goto(`${env.server.origin}/signup`);
    await page.getByLabel('电子邮箱').fill('li@example.org');
    await page.getByLabel('显示名称').fill('李医生');
    await page.getByLabel('密码').fill('correct horse battery');
    await page.getByRole('button', { name: '创建账户' }).click();
    await page.waitForURL('**/login?registered=1');
    await page.getByText('您的账户已经准备好了').waitFor();
    await page.getByLabel('电子邮箱').fill('li@example.org');
    await page.getByLabel('密码').fill('correct horse battery');
    await page.getByRole('button', { name: '登录' }).click();
    await page.waitForURL('**/rooms');
    await page.getByLabel('房间名称').fill('复诊');
    await page.getByRole('radio', { name: '问诊' }).check();
    await page.getByRole('button', { name: '创建房间' }).click();
    await page.getByRole('link', { name: '复诊的设置' }).click();
    await page.getByText('问诊始终设有等候室：每位访客都由您亲自准许进入。').waitFor();
    // An untouched time zone field takes the browser's.
    await page.waitForFunction(() => document.querySelector('#field-time_zone').value === 'Asia/Shanghai');
    const [date, time] = new Date(Date.now() + 5 * 60_000).toLocaleString('sv-SE', { timeZone: 'Asia/Shanghai' }).split(' ');
    await page.getByLabel('标题').fill('王女士复诊');
    await page.getByLabel('日期').fill(date);
    await page.getByLabel('开始时间').fill(time.slice(0, 5));
    await page.getByRole('button', { name: '安排预约' }).click();
    await page.getByText('预约已安排。').waitFor();
    // Its start as the doctor wrote it (a session that runs past midnight in
    // Shanghai names the day it ends: "23:56 至 12月7日（周一）00:41").
    const shown = await localMeeting(page.locator('.session time'), time.slice(0, 5), 'zh-CN');
    assert.match(shown, new RegExp(`${time.slice(0, 5)}`), 'in Shanghai time, as the doctor wrote it');
    assert.match(await page.locator('.session time').getAttribute('title'), /^\d{4}年\d{1,2}月\d{1,2}日（周.）\d\d:\d\d(–| 至 \d{1,2}月\d{1,2}日（周.）)\d\d:\d\d（Asia\/Shanghai）$/);
    assert.deepEqual(await latinWords(page), [], 'the room settings read English');
    await noSeriousViolations(page, 'room settings');
    const joinLink = await page.getByLabel('复诊的加入链接', { exact: true }).inputValue();

    // The dashboard lists it today, in Shanghai time, with its Start button.
    await page.getByRole('link', { name: '← 我的房间' }).click();
    await page.getByRole('heading', { name: '今天' }).waitFor();
    await localMeeting(page.locator('.upcoming time'), time.slice(0, 5), 'zh-CN');
    assert.deepEqual(await latinWords(page), [], 'the dashboard reads English');
    await noSeriousViolations(page, 'dashboard');

    const patient = await newPerson(env.browser, { ...CHINESE, viewport: { width: 390, height: 844 } });
    await patient.page.goto(joinLink);
    await waitForHydration(patient.page, '加入');
    await patient.page.getByText('摄像头和麦克风工作正常。').waitFor();
    await patient.page.getByText('检查您的设备和网络').click();
    await patient.page.getByText(/^Huddle 服务器：可以连接（\d+ 毫秒）。$/).waitFor();
    await patient.page.getByText('网络：这里的通话直接连接，大多数网络都可以使用。').waitFor();
    await patient.page.getByRole('button', { name: '麦克风静音' }).waitFor();
    assert.deepEqual(await latinWords(patient.page), [], 'the pre-join check reads English');
    await noSeriousViolations(patient.page, 'pre-join');
    await patient.page.screenshot({ path: `${shots}9-prejoin-zh-CN.png` });

    await patient.page.getByLabel('您的名字').fill('王芳');
    await patient.page.getByRole('button', { name: '加入', exact: true }).click();
    await patient.page.getByText('正在等待主持人让您进入。').waitFor();
    await patient.page.getByText('主持人还没有加入。请保持本页面打开：主持人一到就会看到您在等候。').waitFor();
    assert.deepEqual(await latinWords(patient.page), [], 'the lobby reads English');
    await noSeriousViolations(patient.page, 'lobby');
    await patient.page.screenshot({ path: `${shots}10-waiting-zh-CN.png` });

    // The doctor starts the session from the dashboard and lets the patient in.
    await page.getByRole('link', { name: '开始王女士复诊' }).click();
    await waitForHydration(page, '加入');
    await page.getByRole('button', { name: '加入', exact: true }).click();
    await patient.page.getByText('主持人知道您在这里。请保持本页面打开；您一被准许进入，通话就会开始。').waitFor();
    await host.page.getByRole('button', { name: '准许王芳进入' }).click();
    await waitForRemoteVideos(patient.page, 1, 30_000);
    await waitForRemoteVideos(host.page, 1, 30_000);

    // In the call: the status, the controls, chat, and the quality badge, in Chinese.
    await patient.page.getByText('与另外 1 人通话中。').waitFor();
    await patient.page.locator('.tile.remote .quality summary', { hasText: /^连接：(良好|一般)$/ }).waitFor({ timeout: 15_000 });
    // Styles read the grade by a name that does not change with the language.
    assert.match(await patient.page.locator('.tile.remote .quality').getAttribute('data-grade'), /^(good|fair)$/);
    await patient.page.getByRole('button', { name: /^聊天/ }).click();
    await patient.page.getByLabel('发给所有人的消息').fill('医生您好，我能听见您。');
    await patient.page.getByRole('button', { name: '发送', exact: true }).click();
    await host.page.getByRole('button', { name: /^聊天.*1/ }).click();
    await host.page.locator('.chat .messages li', { hasText: '王芳' }).getByText('医生您好，我能听见您。').waitFor();
    await patient.page.locator('.chat .messages li.mine', { hasText: '王芳（您）' }).waitFor();
    assert.deepEqual(await latinWords(patient.page), [], 'the call reads English');
    assert.deepEqual(await latinWords(host.page), [], 'the doctor\'s call reads English');
    await noSeriousViolations(patient.page, 'call');
    await patient.page.getByRole('button', { name: '关闭聊天' }).click();
    await patient.page.screenshot({ path: `${shots}11-call-zh-CN.png` });

    // A refusal from the server, said in the page's language: the doctor
    // locks the call, and a latecomer is told why.
    await page.getByRole('button', { name: '更多', exact: true }).click();
    await page.getByRole('button', { name: '锁定通话' }).click();
    await patient.page.getByText('主持人已锁定本次通话：任何新成员都无法加入。').waitFor();
    const late = await newPerson(env.browser, CHINESE);
    await late.page.goto(joinLink);
    await waitForHydration(late.page, '加入');
    await late.page.getByLabel('您的名字').fill('张伟');
    await late.page.getByRole('button', { name: '加入', exact: true }).click();
    await late.page.getByRole('heading', { name: '本次通话已锁定' }).waitFor();
    await late.page.getByText('主持人已锁定本次通话，目前任何新成员都无法加入。').waitFor();
    assert.deepEqual(await latinWords(late.page), [], 'the refusal reads English');
    // The same check on an English page finds English: it can fail.
    const english = await newPerson(env.browser);
    await english.page.goto(joinLink);
    assert.ok((await latinWords(english.page)).length > 10, 'the check reads what an English page shows');
  });

  it('the switch changes the language without JavaScript, and the choice outlasts the browser’s', async () => {
    const visitor = await newPerson(env.browser, { ...CHINESE, javaScriptEnabled: false });
    await visitor.page.goto(`${env.server.origin}/login`);
    await visitor.page.getByRole('navigation', { name: '语言' }).getByRole('link', { name: 'English' }).click();
    await visitor.page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
    assert.equal(await visitor.page.locator('html').getAttribute('lang'), 'en');
    assert.equal(new URL(visitor.page.url()).pathname, '/login', 'back on the same page');
    await visitor.page.goto(env.server.origin);
    assert.equal(await visitor.page.locator('html').getAttribute('lang'), 'en', 'kept over the browser’s Chinese');
    await visitor.page.getByRole('navigation', { name: 'Language' }).getByRole('link', { name: '简体中文' }).click();
    await visitor.page.getByRole('heading', { name: '私密视频会面，运行在您自己的服务器上' }).waitFor();
  });
});
