/**
 * Layout checks for the e2e suite: the bounding boxes of the visible controls (buttons, inputs,
 * selects, text areas) of a panel, and the problems a user would meet: two controls on top of
 * each other, or a control that runs past its panel's edge (horizontally; vertically past the
 * panel's scrollable content, so a panel that scrolls may hold more than it shows).
 */
import type { Page } from '@playwright/test';

export interface ControlBox {
  /** How the control is named in a failure: its test id, else its tag and text. */
  name: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PanelLayout {
  panel: string;
  controls: ControlBox[];
  problems: string[];
}

/** Collects the visible controls of the first element matching `panelSelector` and checks them. */
export async function checkPanelLayout(page: Page, panelSelector: string): Promise<PanelLayout> {
  return page.evaluate((selector): PanelLayout => {
    const panel = document.querySelector<HTMLElement>(selector);
    if (!panel) return { panel: selector, controls: [], problems: [`${selector}: not on screen`] };
    const tolerance = 1;
    const nameOf = (element: HTMLElement): string => {
      const id = element.dataset.testid ?? element.dataset.action;
      if (id) return id;
      const text = (element.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 30);
      return `${element.tagName.toLowerCase()}${text ? ` "${text}"` : ''}`;
    };
    const visible = (element: HTMLElement): boolean => {
      const style = getComputedStyle(element);
      if (style.visibility === 'hidden' || style.display === 'none') return false;
      if (element instanceof HTMLInputElement && element.type === 'hidden') return false;
      const rect = element.getBoundingClientRect();
      return rect.width > 0 && rect.height > 0;
    };
    const elements = Array.from(
      panel.querySelectorAll<HTMLElement>('button, input, select, textarea'),
    ).filter(visible);
    const panelRect = panel.getBoundingClientRect();
    // A panel that scrolls holds its content below its visible edge; nothing may run sideways.
    const contentBottom = panelRect.top - panel.scrollTop + panel.scrollHeight;
    const problems: string[] = [];
    const boxes = elements.map((element) => {
      const rect = element.getBoundingClientRect();
      return {
        element,
        box: {
          name: nameOf(element),
          x: rect.left,
          y: rect.top,
          width: rect.width,
          height: rect.height,
        },
      };
    });
    for (const { box } of boxes) {
      const right = box.x + box.width;
      const bottom = box.y + box.height;
      if (
        box.x < panelRect.left - tolerance ||
        right > panelRect.right + tolerance ||
        box.y < panelRect.top - panel.scrollTop - tolerance ||
        bottom > Math.max(panelRect.bottom, contentBottom) + tolerance
      ) {
        problems.push(
          `${box.name} (${Math.round(box.x)},${Math.round(box.y)} ${Math.round(box.width)}x${Math.round(box.height)}) leaves ${selector} (${Math.round(panelRect.left)}..${Math.round(panelRect.right)})`,
        );
      }
    }
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i];
        const b = boxes[j];
        if (a.element.contains(b.element) || b.element.contains(a.element)) continue;
        const overlapX =
          Math.min(a.box.x + a.box.width, b.box.x + b.box.width) - Math.max(a.box.x, b.box.x);
        const overlapY =
          Math.min(a.box.y + a.box.height, b.box.y + b.box.height) - Math.max(a.box.y, b.box.y);
        if (overlapX > tolerance && overlapY > tolerance) {
          problems.push(
            `${a.box.name} and ${b.box.name} overlap by ${Math.round(overlapX)}x${Math.round(overlapY)} px`,
          );
        }
      }
    }
    return { panel: selector, controls: boxes.map(({ box }) => box), problems };
  }, panelSelector);
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
