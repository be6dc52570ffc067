/// <reference lib="dom" />
/**
 * Browser benchmark of the review workstation (issue 5's speed goals), driven by Playwright in
 * Chromium against `qataseg serve` on seeded projects. Prints figures; asserts nothing.
 *
 *   brush:     frame rate while a mouse stroke paints a 1024x1024 image
 *   worklist:  frame rate while the 20,000-image worklist scrolls (rows fetched as they appear)
 *   switch:    time to switch between 224x224 images with the keyboard (next image)
 *
 * Run: `npx tsx bench/ui-review.ts [brush|worklist|switch ...]` (renderer built in out/renderer).
 * The project seeding uses the e2e seed helper; QATASEG_BENCH_ROWS overrides the 20,000 rows.
 */
import fs from 'node:fs';
import { chromium, type Browser, type Page } from '@playwright/test';
import { chromiumExecutable } from '../test/e2e/chromium';
import { startWorkstation, stopWorkstation, tempProjectDir } from '../test/e2e/fixtures';
import { seedReviewProject } from '../test/e2e/review-seed';

interface FrameStats {
  frames: number;
  seconds: number;
  fps: number;
  p95FrameMs: number;
  maxFrameMs: number;
  /** Frames that took longer than 1.5 refresh intervals (25 ms). */
  longFrames: number;
}

function summarise(intervals: number[]): FrameStats {
  const sorted = [...intervals].sort((a, b) => a - b);
  const total = intervals.reduce((sum, v) => sum + v, 0);
  return {
    frames: intervals.length,
    seconds: total / 1000,
    fps: intervals.length / (total / 1000),
    p95FrameMs: sorted[Math.floor(sorted.length * 0.95)] ?? 0,
    maxFrameMs: sorted[sorted.length - 1] ?? 0,
    longFrames: intervals.filter((v) => v > 25).length,
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

/** Starts recording requestAnimationFrame intervals in the page. */
// Page scripts are strings: tsx compiles functions with helpers (__name) the page does not have.
const START_FRAMES = `(() => {
  window.__frames = [];
  window.__recording = true;
  let last = performance.now();
  const tick = (now) => {
    if (!window.__recording) return;
    window.__frames.push(now - last);
    last = now;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame((now) => { last = now; requestAnimationFrame(tick); });
})()`;

/** Starts recording requestAnimationFrame intervals in the page. */
async function startFrames(page: Page): Promise<void> {
  await page.evaluate(START_FRAMES);
}

async function stopFrames(page: Page): Promise<number[]> {
  return page.evaluate(() => {
    const w = window as unknown as { __frames: number[]; __recording: boolean };
    w.__recording = false;
    return w.__frames;
  });
}

async function withProject<T>(
  options: Parameters<typeof seedReviewProject>[1],
  browser: Browser,
  run: (page: Page, ids: number[]) => Promise<T>,
): Promise<T> {
  const projectDir = tempProjectDir('qataseg-bench-ui-');
  const seedStart = performance.now();
  const ids = await seedReviewProject(projectDir, options);
  console.log(
    `  seeded ${options.count} images of ${options.size}px in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
  );
  const { workstation, child } = await startWorkstation(projectDir);
  const page = await browser.newPage({ viewport: { width: 1400, height: 850 } });
  try {
    await page.goto(workstation.url);
    await page.getByTestId('worklist-row').first().waitFor();
    return await run(page, ids);
  } finally {
    await page.close();
    await stopWorkstation(child);
    fs.rmSync(projectDir, { recursive: true, force: true });
  }
}

async function openFirst(page: Page, id: number): Promise<void> {
  await page.locator(`[data-testid=worklist-row][data-image-id="${id}"]`).click();
  await page.waitForSelector(`[data-testid=viewer][data-image-id="${id}"][data-loading=false]`);
}

async function benchBrush(browser: Browser): Promise<void> {
  console.log('brush stroke on a 1024x1024 image');
  await withProject({ count: 2, size: 1024 }, browser, async (page, ids) => {
    await openFirst(page, ids[0]);
    await page.keyboard.press('1'); // 1:1, so the stroke covers real pixels
    const box = (await page.getByTestId('viewer').boundingBox())!;
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    for (const radius of [6, 24]) {
      await page.getByTestId('brush-size').fill(String(radius));
      await page.mouse.move(cx, cy);
      await page.mouse.down();
      await startFrames(page);
      const started = performance.now();
      const moves = 600;
      for (let i = 0; i < moves; i++) {
        const angle = (i / moves) * Math.PI * 6;
        const r = 60 + i * 0.4;
        await page.mouse.move(cx + r * Math.cos(angle), cy + r * Math.sin(angle));
      }
      const seconds = (performance.now() - started) / 1000;
      const stats = summarise(await stopFrames(page));
      await page.mouse.up();
      await page.waitForFunction(
        () => document.querySelector('[data-testid=save-status]')?.textContent === 'saved',
        null,
        { timeout: 60_000 },
      );
      console.log(
        `  radius ${radius}: ${moves} pointer events in ${seconds.toFixed(2)} s (${(moves / seconds).toFixed(0)}/s); ` +
          `${stats.fps.toFixed(1)} frames/s, p95 frame ${stats.p95FrameMs.toFixed(1)} ms, ` +
          `max ${stats.maxFrameMs.toFixed(1)} ms, ${stats.longFrames}/${stats.frames} frames over 25 ms`,
      );
    }
    // Playwright's mouse waits for each event's acknowledgement, which caps its rate near one per
    // frame. A fast real mouse sends several samples per frame: replay that in the page (four
    // pointermove events per animation frame, 300 frames) and time the handlers and the frames.
    // The same page doing nothing: what this machine's load leaves for frames at all.
    await startFrames(page);
    await page.waitForTimeout(3000);
    const idle = summarise(await stopFrames(page));
    console.log(
      `  idle page for reference: ${idle.fps.toFixed(1)} frames/s, p95 frame ${idle.p95FrameMs.toFixed(1)} ms, ` +
        `${idle.longFrames}/${idle.frames} frames over 25 ms`,
    );
    for (const radius of [6, 24]) {
      await page.getByTestId('brush-size').fill(String(radius));
      const result = JSON.parse(
        String(
          await page.evaluate(
            IN_PAGE_STROKE.replaceAll('CX', String(cx)).replaceAll('CY', String(cy)),
          ),
        ),
      ) as { frames: number[]; handlerMs: number[] };
      await page.waitForFunction(
        () => document.querySelector('[data-testid=save-status]')?.textContent === 'saved',
        null,
        { timeout: 60_000 },
      );
      const stats = summarise(result.frames);
      const handler = result.handlerMs;
      console.log(
        `  radius ${radius}, 4 events/frame in page: ${stats.fps.toFixed(1)} frames/s, ` +
          `p95 frame ${stats.p95FrameMs.toFixed(1)} ms, ${stats.longFrames}/${stats.frames} frames over 25 ms; ` +
          `handlers per frame median ${percentile(handler, 0.5).toFixed(2)} ms, p95 ${percentile(handler, 0.95).toFixed(2)} ms`,
      );
    }
  });
}

const IN_PAGE_STROKE = `new Promise((resolve) => {
  const viewer = document.querySelector('[data-testid=viewer]');
  const fire = (type, x, y) => viewer.dispatchEvent(new PointerEvent(type, {
    bubbles: true, clientX: x, clientY: y, pointerId: 1, button: 0, buttons: type === 'pointerup' ? 0 : 1,
    pointerType: 'mouse', isPrimary: true,
  }));
  const frames = [];
  const handlerMs = [];
  let step = 0;
  let last = 0;
  fire('pointerdown', CX + 60, CY);
  const tick = (now) => {
    if (last) frames.push(now - last);
    last = now;
    const started = performance.now();
    for (let k = 0; k < 4; k++, step++) {
      const angle = step / 1200 * Math.PI * 6;
      const r = 60 + step * 0.2;
      fire('pointermove', CX + r * Math.cos(angle), CY + r * Math.sin(angle));
    }
    handlerMs.push(performance.now() - started);
    if (step < 1200) requestAnimationFrame(tick);
    else {
      fire('pointerup', CX, CY);
      resolve(JSON.stringify({ frames, handlerMs }));
    }
  };
  requestAnimationFrame(tick);
})`;

async function benchWorklist(browser: Browser): Promise<void> {
  const rows = Number(process.env.QATASEG_BENCH_ROWS ?? 20_000);
  console.log(`worklist scroll with ${rows} images`);
  await withProject({ count: rows, size: 224, distinct: 16 }, browser, async (page) => {
    await page.waitForSelector(`[data-testid=worklist-total]:has-text("${rows} images")`);
    for (const [label, pixelsPerFrame] of [
      ['reading scroll (100 px/frame)', 100],
      ['steady scroll (400 px/frame)', 400],
      ['fast scroll (4000 px/frame)', 4000],
    ] as const) {
      await page.evaluate(() => {
        document.querySelector<HTMLElement>('[data-testid=worklist-scroll]')!.scrollTop = 0;
      });
      await page.waitForTimeout(300);
      await startFrames(page);
      await page.evaluate(`new Promise((resolve) => {
        const scroller = document.querySelector('[data-testid=worklist-scroll]');
        let frames = 0;
        const tick = () => {
          scroller.scrollTop += ${pixelsPerFrame};
          frames++;
          if (frames < 240 && scroller.scrollTop + scroller.clientHeight < scroller.scrollHeight) {
            requestAnimationFrame(tick);
          } else resolve();
        };
        requestAnimationFrame(tick);
      })`);
      const stats = summarise(await stopFrames(page));
      const placeholders = await page.locator('.row.placeholder').count();
      await page.waitForFunction(() => document.querySelectorAll('.row.placeholder').length === 0);
      console.log(
        `  ${label}: ${stats.fps.toFixed(1)} frames/s, p95 frame ${stats.p95FrameMs.toFixed(1)} ms, ` +
          `max ${stats.maxFrameMs.toFixed(1)} ms, ${stats.longFrames}/${stats.frames} frames over 25 ms; ` +
          `${placeholders} rows still loading at the end`,
      );
    }
    const jumpStart = performance.now();
    await page.evaluate(() => {
      const scroller = document.querySelector<HTMLElement>('[data-testid=worklist-scroll]')!;
      scroller.scrollTop = scroller.scrollHeight / 2;
    });
    await page.waitForFunction(
      () =>
        document.querySelectorAll('.row.placeholder').length === 0 &&
        document.querySelectorAll('[data-testid=worklist-row]').length > 0,
    );
    console.log(
      `  jump to the middle: rows shown after ${(performance.now() - jumpStart).toFixed(0)} ms`,
    );
  });
}

async function benchSwitch(browser: Browser): Promise<void> {
  console.log('image switch at 224x224 (next image by key)');
  await withProject({ count: 60, size: 224 }, browser, async (page, ids) => {
    await openFirst(page, ids[0]);
    const wall: number[] = [];
    const inPage: number[] = [];
    const phases = { detail: [] as number[], media: [] as number[], render: [] as number[] };
    for (let i = 1; i < 40; i++) {
      const started = performance.now();
      await page.keyboard.press('ArrowDown');
      await page.waitForSelector(
        `[data-testid=viewer][data-image-id="${ids[i]}"][data-loading=false]`,
      );
      wall.push(performance.now() - started);
      const last = JSON.parse(
        await page.evaluate(() => document.body.dataset.lastSwitch ?? '{}'),
      ) as { total: number; detail: number; media: number; render: number };
      inPage.push(last.total);
      phases.detail.push(last.detail);
      phases.media.push(last.media);
      phases.render.push(last.render);
      // A reader looks at an image before the next key: lets neighbour preloading run.
      await page.waitForTimeout(150);
    }
    console.log(
      `  in page (key handled -> layers drawn): median ${percentile(inPage, 0.5).toFixed(1)} ms, ` +
        `p95 ${percentile(inPage, 0.95).toFixed(1)} ms, max ${Math.max(...inPage).toFixed(1)} ms`,
    );
    console.log(
      `  median phases: images.get ${percentile(phases.detail, 0.5).toFixed(1)} ms, ` +
        `media ${percentile(phases.media, 0.5).toFixed(1)} ms, render ${percentile(phases.render, 0.5).toFixed(1)} ms; ` +
        `p95 phases: ${percentile(phases.detail, 0.95).toFixed(1)} / ${percentile(phases.media, 0.95).toFixed(1)} / ${percentile(phases.render, 0.95).toFixed(1)} ms`,
    );
    console.log(
      `  end to end (Playwright key press -> viewer updated): median ${percentile(wall, 0.5).toFixed(1)} ms, ` +
        `p95 ${percentile(wall, 0.95).toFixed(1)} ms`,
    );
  });
}

const benches: Record<string, (browser: Browser) => Promise<void>> = {
  brush: benchBrush,
  worklist: benchWorklist,
  switch: benchSwitch,
};

async function main(): Promise<void> {
  const chosen = process.argv.slice(2).filter((name) => name in benches);
  const names = chosen.length > 0 ? chosen : Object.keys(benches);
  const browser = await chromium.launch({
    executablePath: chromiumExecutable(),
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    for (const name of names) await benches[name](browser);
  } finally {
    await browser.close();
  }
}

await main();
