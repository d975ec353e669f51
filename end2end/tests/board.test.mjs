// The shared whiteboard in a class: the teacher opens it, a pupil looks
// until let draw, both draw at once and end with the same board (also when
// both move the same stroke at once), undo, shapes and text, the teacher
// shows it to everyone and a late pupil gets it all, a download holds it.
// Then the figures: a stroke from one screen to another, and a late joiner
// receiving a board of 5,000 strokes.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { callAction, hostWithRoom, joinCall, newPerson, noSeriousViolations, serverAndBrowser } from './support.mjs';

const shots = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

/** The board's drawing as the page shows it. */
const drawn = (page) => page.evaluate(() => document.getElementById('board-drawn')?.innerHTML ?? null);
const count = (page) => page.evaluate(() => document.querySelectorAll('#board-drawn > g').length);

/** Waits until every page shows the same drawing, of `n` elements. */
async function converged(pages, n, timeout = 15_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const all = await Promise.all(pages.map(drawn));
    const counts = await Promise.all(pages.map(count));
    if (all.every((d) => d === all[0]) && counts[0] === n) return all[0];
    if (Date.now() > deadline) {
      const parts = all.map((d) => (d ?? '').split('</g>'));
      const differ = parts[0].map((part, i) => parts.map((p) => p[i])).filter((row) => row.some((p) => p !== row[0]));
      assert.fail(`the boards differ: ${counts.join(', ')} elements (wanted ${n}); first difference: ${JSON.stringify(differ[0])}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Drags on `page`'s board through board points `points`. */
async function drag(page, points) {
  const box = await page.locator('#board-surface').boundingBox();
  const scale = Math.min(box.width / 1600, box.height / 900);
  const at = ([x, y]) => [box.x + (box.width - 1600 * scale) / 2 + x * scale, box.y + (box.height - 900 * scale) / 2 + y * scale];
  const [first, ...rest] = points.map(at);
  await page.mouse.move(...first);
  await page.mouse.down();
  for (const point of rest) await page.mouse.move(...point, { steps: 3 });
  await page.mouse.up();
}

const wave = (x0, y0) => Array.from({ length: 8 }, (_, i) => [x0 + i * 25, y0 + (i % 2) * 30]);

/** Opens the board from the call's More menu. */
async function openBoard(page) {
  await callAction(page, 'Whiteboard');
  const board = page.getByRole('region', { name: 'Whiteboard' });
  await board.getByText(/^Page 1 of \d+$/).waitFor();
  return board;
}

describe('the whiteboard', () => {
  const env = serverAndBrowser({ HUDDLE_MEDIA_ADDR: '127.0.0.1:0' });

  it('two people draw at once and converge, a late joiner gets it all, the host decides who draws', async () => {
    const { host: teacher, joinLink: link } = await hostWithRoom(env.browser, env.server.origin, 'Art', 'Ms. Teacher', 'Class');
    await joinCall(teacher, link);
    const pupil = await newPerson(env.browser);
    await joinCall(pupil, link, 'Pupil 1');
    await pupil.page.getByText('Waiting for the host to let you in.').waitFor();
    await teacher.page.getByRole('button', { name: 'Admit Pupil 1' }).click();
    await pupil.page.getByRole('button', { name: 'More', exact: true }).waitFor();

    const board = await openBoard(teacher.page);
    const theirs = await openBoard(pupil.page);
    // In a class, a pupil not let speak looks on.
    await theirs.getByText('You can look: the host lets others draw.').waitFor();
    assert.equal(await theirs.getByRole('toolbar', { name: 'Drawing tools' }).isVisible(), false);
    await board.getByLabel('Who may draw').selectOption('everyone');
    await theirs.getByRole('button', { name: 'Pen' }).waitFor();

    // Both draw three strokes at once: everyone ends with the same six.
    await Promise.all([
      (async () => { for (let i = 0; i < 3; i++) await drag(teacher.page, wave(100, 100 + i * 80)); })(),
      (async () => { for (let i = 0; i < 3; i++) await drag(pupil.page, wave(700, 100 + i * 80)); })(),
    ]);
    await converged([teacher.page, pupil.page], 6);

    // Both move the teacher's first stroke at once: one move wins, on both screens.
    for (const page of [teacher.page, pupil.page]) await page.getByRole('region', { name: 'Whiteboard' }).getByRole('button', { name: 'Select and move' }).click();
    await Promise.all([drag(teacher.page, [[100, 100], [100, 500]]), drag(pupil.page, [[100, 100], [900, 600]])]);
    await converged([teacher.page, pupil.page], 6);
    // The stroke starts where one of the two took it (give or take a unit of rounding).
    const starts = await teacher.page.evaluate(() => [...document.querySelectorAll('#board-drawn path')].map((p) => p.getAttribute('d').match(/^M(\d+) (\d+)/).slice(1).map(Number)));
    const near = ([x, y], [tx, ty]) => Math.abs(x - tx) <= 3 && Math.abs(y - ty) <= 3;
    assert.ok(starts.some((start) => near(start, [100, 500]) || near(start, [900, 600])), `the stroke moved: ${JSON.stringify(starts)}`);
    assert.ok(!starts.some((start) => near(start, [100, 100])), 'and is no longer where it was');

    // The pupil draws an ellipse; the teacher a rectangle and a red text; the
    // pupil's undo takes back only the ellipse.
    await theirs.getByRole('button', { name: 'Ellipse' }).click();
    await drag(pupil.page, [[200, 600], [400, 750]]);
    await board.getByRole('button', { name: 'Rectangle' }).click();
    await drag(teacher.page, [[1000, 500], [1300, 700]]);
    await board.getByRole('button', { name: 'Red', exact: true }).click();
    await board.getByRole('button', { name: 'Text' }).click();
    await drag(teacher.page, [[1000, 800]]);
    await board.getByLabel('Text to place (Enter to place it)').fill('Photosynthesis');
    await board.getByLabel('Text to place (Enter to place it)').press('Enter');
    await converged([teacher.page, pupil.page], 9);
    await theirs.getByRole('button', { name: 'Undo' }).click();
    const undone = await converged([teacher.page, pupil.page], 8);
    assert.match(undone, /Photosynthesis/);
    assert.doesNotMatch(undone, /<ellipse/);
    assert.match(undone, /<rect /);
    // The eraser takes the pupil's third stroke away for both; undo brings it back.
    await theirs.getByRole('button', { name: 'Eraser' }).click();
    await drag(pupil.page, [[750, 250], [750, 300]]);
    await converged([teacher.page, pupil.page], 7);
    await theirs.getByRole('button', { name: 'Undo' }).click();
    await converged([teacher.page, pupil.page], 8);
    // Redo erases it again; undo once more brings it back.
    await theirs.getByRole('button', { name: 'Redo' }).click();
    await converged([teacher.page, pupil.page], 7);
    await theirs.getByRole('button', { name: 'Undo' }).click();
    await converged([teacher.page, pupil.page], 8);
    // From the keyboard alone: the text tool opens its box, Enter places
    // the words, Ctrl+Z takes them back.
    await board.getByRole('button', { name: 'Text' }).focus();
    await teacher.page.keyboard.press('Enter');
    await teacher.page.keyboard.type('Chlorophyll');
    await teacher.page.keyboard.press('Enter');
    assert.match(await converged([teacher.page, pupil.page], 9), /Chlorophyll/);
    await teacher.page.keyboard.press('Control+z');
    assert.doesNotMatch(await converged([teacher.page, pupil.page], 8), /Chlorophyll/);

    // Shown to everyone: a pupil who comes late, on a phone, finds it open, all of it there.
    await board.getByRole('button', { name: 'Show to everyone' }).click();
    const late = await newPerson(env.browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await joinCall(late, link, 'Pupil 2');
    await late.page.getByText('Waiting for the host to let you in.').waitFor();
    await teacher.page.getByRole('button', { name: 'Admit Pupil 2' }).click();
    const lateBoard = late.page.getByRole('region', { name: 'Whiteboard' });
    await lateBoard.getByText('The host is showing the whiteboard to everyone.').waitFor({ timeout: 20_000 });
    await converged([teacher.page, late.page], 8);
    await noSeriousViolations(late.page, 'the whiteboard');
    // The phone draws with a pen that presses harder as it goes: a shape that widens, on every screen.
    await late.page.evaluate(() => {
      const svg = document.getElementById('board-surface');
      const box = svg.getBoundingClientRect();
      const scale = Math.min(box.width / 1600, box.height / 900);
      const at = (x, y) => ({ clientX: box.left + (box.width - 1600 * scale) / 2 + x * scale, clientY: box.top + (box.height - 900 * scale) / 2 + y * scale });
      const fire = (type, x, y, pressure) =>
        svg.dispatchEvent(new PointerEvent(type, { ...at(x, y), pointerId: 7, pointerType: 'pen', pressure, isPrimary: true, bubbles: true, button: type === 'pointermove' ? -1 : 0, buttons: type === 'pointerup' ? 0 : 1 }));
      fire('pointerdown', 300, 400, 0.1);
      for (let i = 1; i <= 12; i++) fire('pointermove', 300 + i * 25, 400 + i * 8, 0.1 + i * 0.07);
      fire('pointerup', 600, 496, 0);
    });
    const pressed = await converged([teacher.page, pupil.page, late.page], 9);
    assert.match(pressed, /<path d="M[^"]+ Z" fill="#/, 'a pressed stroke is drawn as a filled shape');
    await late.page.screenshot({ path: `${shots}17-whiteboard-phone.png` });

    // A download holds the page as drawn.
    const [download] = await Promise.all([late.page.waitForEvent('download'), lateBoard.getByRole('button', { name: 'Download SVG' }).click()]);
    assert.equal(download.suggestedFilename(), 'whiteboard-page-1.svg');
    const svg = readFileSync(await download.path(), 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(svg, />Photosynthesis<\/text>/);
    const [png] = await Promise.all([late.page.waitForEvent('download'), lateBoard.getByRole('button', { name: 'Download PNG' }).click()]);
    assert.equal(png.suggestedFilename(), 'whiteboard-page-1.png');
    assert.deepEqual([...readFileSync(await png.path()).subarray(1, 4)], [0x50, 0x4e, 0x47], 'a PNG file');
    await teacher.page.screenshot({ path: `${shots}16-whiteboard.png` });

    // Stopped showing: it closes for whoever it opened for.
    await board.getByRole('button', { name: 'Stop showing' }).click();
    await lateBoard.waitFor({ state: 'detached' });

    // A second page: the teacher turns to it, the pupil stays on the first.
    await board.getByRole('button', { name: 'Add page' }).click();
    await board.getByText('Page 2 of 2').waitFor();
    await theirs.getByText('Page 1 of 2').waitFor();
    await board.getByRole('button', { name: 'Line' }).click();
    await drag(teacher.page, [[100, 100], [800, 400]]);
    // Kept with the session: the room's settings list both pages, each an SVG.
    await board.getByRole('button', { name: 'Keep with the session' }).click();
    await board.getByText('Kept: the room’s settings page lists it, each page to download.').waitFor();
    for (const person of [pupil, late]) await person.context.close();
    const settings = await teacher.context.newPage();
    await settings.goto(`${env.server.origin}/rooms`);
    await settings.getByRole('link', { name: 'Settings of Art' }).click();
    const kept = settings.locator('#boards');
    await kept.getByText('2 pages').waitFor();
    const [page2] = await Promise.all([settings.waitForEvent('download'), kept.getByRole('link', { name: 'Page 2 (SVG)' }).click()]);
    assert.match(readFileSync(await page2.path(), 'utf8'), /<line x1="(9\d|10\d)" y1="(9\d|10\d)" x2="(79\d|80\d)" y2="(39\d|40\d)"/);
    await teacher.context.close();
  });

  it('figures: a stroke from one screen to another, and a late joiner receiving 5,000 strokes', async () => {
    const { host, joinLink: link } = await hostWithRoom(env.browser, env.server.origin, 'Figures', 'Ms. Host', 'Meeting');
    await joinCall(host, link);
    const other = await newPerson(env.browser);
    await joinCall(other, link, 'Pat');
    await other.page.getByRole('button', { name: 'More', exact: true }).waitFor();
    await openBoard(host.page);
    await openBoard(other.page);
    await other.page.getByRole('region', { name: 'Whiteboard' }).getByRole('button', { name: 'Pen' }).waitFor();
    // Each page notes when each element first shows on it.
    for (const page of [host.page, other.page]) {
      await page.evaluate(() => {
        window.__seen = {};
        new MutationObserver((changes) => {
          const now = performance.timeOrigin + performance.now();
          for (const change of changes) for (const node of change.addedNodes) if (node.dataset?.id) window.__seen[node.dataset.id] ??= now;
        }).observe(document.getElementById('board-drawn'), { childList: true });
      });
    }
    // 200 strokes of 12 points each, drawn by pointer events a few at a
    // second (the rate a person draws them, under the socket's rate limit).
    const STROKES = 200;
    await host.page.evaluate(async (strokes) => {
      const svg = document.getElementById('board-surface');
      const box = svg.getBoundingClientRect();
      const scale = Math.min(box.width / 1600, box.height / 900);
      const at = (x, y) => ({ clientX: box.left + (box.width - 1600 * scale) / 2 + x * scale, clientY: box.top + (box.height - 900 * scale) / 2 + y * scale });
      const fire = (type, x, y) => svg.dispatchEvent(new PointerEvent(type, { ...at(x, y), pointerId: 1, pointerType: 'mouse', isPrimary: true, bubbles: true, button: type === 'pointermove' ? -1 : 0, buttons: type === 'pointerup' ? 0 : 1 }));
      for (let i = 0; i < strokes; i++) {
        const x = 50 + (i % 20) * 75;
        const y = 50 + Math.floor(i / 20) * 80;
        fire('pointerdown', x, y);
        for (let j = 1; j < 12; j++) fire('pointermove', x + j * 5, y + (j % 3) * 8);
        fire('pointerup', x + 55, y);
        await new Promise((resolve) => setTimeout(resolve, 70));
      }
    }, STROKES);
    await converged([host.page, other.page], STROKES, 30_000);
    const [drewAt, sawAt] = await Promise.all([host.page.evaluate(() => window.__seen), other.page.evaluate(() => window.__seen)]);
    const delays = Object.keys(drewAt).map((id) => sawAt[id] - drewAt[id]).sort((a, b) => a - b);
    assert.equal(delays.length, STROKES);
    const at = (q) => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))].toFixed(1);
    console.log(`# board: a stroke from one screen to another over ${STROKES} strokes: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms`);

    // 5,000 strokes of 30 points, sent as the board's own code sends them.
    await host.page.evaluate(async () => {
      const send = (message) => {
        window.huddleSend = JSON.stringify(message);
        window.dispatchEvent(new Event('huddle-send'));
      };
      for (let batch = 0; batch < 100; batch++) {
        const items = Array.from({ length: 50 }, (_, i) => {
          const n = batch * 50 + i;
          const p = Array.from({ length: 30 }, (_, j) => [(n * 7 + j * 11) % 1600, (n * 3 + j * 13) % 900]).flat();
          return { id: `bulk${n}`, v: 0, k: 'pen', c: n % 8, w: 0, p };
        });
        send({ type: 'board_put', page: 0, items });
        await new Promise((resolve) => setTimeout(resolve, 60));
      }
    });
    await converged([host.page, other.page], STROKES + 5000, 60_000);
    const late = await newPerson(env.browser);
    await joinCall(late, link, 'Kim');
    await late.page.getByRole('button', { name: 'More', exact: true }).waitFor();
    await late.page.evaluate(() => {
      window.__pieces = [];
      window.addEventListener('huddle-board', () => window.__pieces.push(performance.timeOrigin + performance.now()));
    });
    const opened = Date.now();
    await openBoard(late.page);
    await late.page.waitForFunction((n) => document.querySelectorAll('#board-drawn > g').length === n, STROKES + 5000, { timeout: 60_000, polling: 50 });
    const took = Date.now() - opened;
    const bytes = (await drawn(late.page)).length;
    const pieces = await late.page.evaluate(() => window.__pieces);
    console.log(`# board: a late joiner opens a board of ${STROKES + 5000} strokes and has it drawn in ${took} ms (${Math.round(bytes / 1024)} KB of SVG): the board's code loaded and the first of ${pieces.length} pieces in ${Math.round(pieces[0] - opened)} ms, the last in ${Math.round(pieces[pieces.length - 1] - opened)} ms`);
    for (const person of [host, other, late]) await person.context.close();
  });
});
