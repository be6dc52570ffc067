/**
 * Layout checks for the e2e suite: within a panel, no visible control (button, input, select,
 * textarea, a labelled checkbox's label) overlaps another or reaches past the panel's edges, and
 * the panel itself stays inside the window. Boxes are read from the page, so the check sees what a
 * user sees at that window size; a failure names the controls by their text or test id.
 */
import { expect, type Locator, type Page } from '@playwright/test';

interface Box {
  name: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

const CONTROLS = 'button, input:not([type=hidden]), select, textarea';
/** Sub-pixel rounding and focus rings are not overlaps. */
const TOLERANCE = 1;

async function controlBoxes(panel: Locator): Promise<Box[]> {
  return panel.evaluate((root, selector) => {
    const boxes: Box[] = [];
    for (const element of Array.from(root.querySelectorAll<HTMLElement>(selector))) {
      const style = getComputedStyle(element);
      if (style.visibility === 'hidden' || style.display === 'none') continue;
      const rect = element.getBoundingClientRect();
      if (rect.width === 0 || rect.height === 0) continue;
      // Controls inside a scrolled-away part of a scrolling panel are not on screen.
      const name =
        element.dataset.testid ??
        element.getAttribute('aria-label') ??
        (element.textContent?.trim() || element.getAttribute('name') || element.tagName);
      boxes.push({ name, x: rect.x, y: rect.y, width: rect.width, height: rect.height });
    }
    return boxes;
  }, CONTROLS);
}

function overlap(a: Box, b: Box): number {
  const width = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const height = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return width > TOLERANCE && height > TOLERANCE ? width * height : 0;
}

/** Pairs of controls of `panel` that overlap, and controls that leave it, as readable lines. */
export async function layoutProblems(page: Page, panel: Locator): Promise<string[]> {
  const frame = await panel.boundingBox();
  if (!frame) return ['the panel is not visible'];
  const viewport = page.viewportSize();
  const problems: string[] = [];
  if (viewport) {
    if (frame.x < -TOLERANCE || frame.x + frame.width > viewport.width + TOLERANCE)
      problems.push(
        `the panel spans x ${Math.round(frame.x)}..${Math.round(frame.x + frame.width)} in a ${viewport.width} px window`,
      );
  }
  // A panel that scrolls vertically may hold controls below its fold; only the sides count then.
  const boxes = await controlBoxes(panel);
  for (const box of boxes) {
    const leavesSide =
      box.x < frame.x - TOLERANCE || box.x + box.width > frame.x + frame.width + TOLERANCE;
    if (leavesSide)
      problems.push(
        `"${box.name}" spans x ${Math.round(box.x)}..${Math.round(box.x + box.width)}, outside the panel's ${Math.round(frame.x)}..${Math.round(frame.x + frame.width)}`,
      );
  }
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++)
      if (overlap(boxes[i], boxes[j]) > 0)
        problems.push(`"${boxes[i].name}" overlaps "${boxes[j].name}"`);
  return problems;
}

/** Asserts that two regions of the page do not cover each other (e.g. a drawer and a panel). */
export async function expectApart(first: Locator, second: Locator, what: string): Promise<void> {
  const a = await first.boundingBox();
  const b = await second.boundingBox();
  expect(a && b, `${what}: both visible`).toBeTruthy();
  const area = overlap({ name: 'a', ...a! }, { name: 'b', ...b! });
  expect(area, `${what}: they overlap by ${Math.round(area)} px²`).toBe(0);
}

/** Asserts a clean layout of `panel`, saving a screenshot named `name` beside the test's output. */
export async function expectCleanLayout(
  page: Page,
  panel: Locator,
  screenshotPath: string,
): Promise<void> {
  await page.screenshot({ path: screenshotPath });
  expect(await layoutProblems(page, panel)).toEqual([]);
}

/**
 * Controls of one panel covered by an element drawn over it (a toast, a sheet): the element at
 * each control's centre must be the control or inside it.
 */
export async function coveredControls(page: Page, panelSelector: string): Promise<string[]> {
  return page.evaluate((selector): string[] => {
    const panel = document.querySelector<HTMLElement>(selector);
    if (!panel) return [];
    const covered: string[] = [];
    for (const element of Array.from(
      panel.querySelectorAll<HTMLElement>('button, input, select, textarea'),
    )) {
      const rect = element.getBoundingClientRect();
      if (rect.width === 0 || rect.height === 0) continue;
      const x = rect.left + rect.width / 2;
      const y = rect.top + rect.height / 2;
      // Scrolled out of its panel (or the window): not on screen, so not covered either.
      const shown = panel.getBoundingClientRect();
      if (x < shown.left || y < shown.top || x > shown.right || y > shown.bottom) continue;
      if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) continue;
      const top = document.elementFromPoint(x, y);
      if (top && top !== element && !element.contains(top) && !panel.contains(top)) {
        const name = element.dataset.testid ?? element.dataset.action ?? element.tagName;
        covered.push(`${name} under ${top.tagName.toLowerCase()}.${top.className}`);
      }
    }
    return covered;
  }, panelSelector);
}
