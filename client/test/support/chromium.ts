/**
 * What the browser tests share: Debian's Chromium (skipped loudly where it is
 * missing), one way to launch it, and the page-side layout check.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** `describe` where Chromium is installed; elsewhere `describe.skip`, saying so loudly (CI installs it, so a skip there is a broken setup). */
export function describeWithChromium(what: string): jest.Describe {
  if (existsSync(CHROMIUM)) return describe;
  console.warn(`\n*** SKIPPING ${what}: ${CHROMIUM} is missing (apt-get install chromium) ***\n`);
  return describe.skip;
}

/** Headless Chromium without the background traffic (updates, sync, QUIC) that would only add noise. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Runs IN THE PAGE (`page.evaluate(layoutProblems)`), so it must stay self-contained: sideways overflow,
 * boxes sticking out, text clipped or cut off with an ellipsis.
 */
export function layoutProblems(): string[] {
  const found: string[] = [];
  const viewport = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > viewport)
    found.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} > ${viewport} px`);
  const name = (e: Element) =>
    `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${e.className && typeof e.className === 'string' ? `.${e.className.split(' ').join('.')}` : ''}`;
  for (const element of Array.from(document.querySelectorAll('body *'))) {
    if (element.closest('svg') && element.tagName.toLowerCase() !== 'svg') continue;
    const box = element.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.right > viewport + 0.5 || box.left < -0.5)
      found.push(`${name(element)} sticks out: ${box.left.toFixed(0)}–${box.right.toFixed(0)} of ${viewport} px`);
    const style = getComputedStyle(element);
    // A box that clips or scrolls its content sideways hides some of it.
    if (
      ['hidden', 'clip', 'auto', 'scroll'].includes(style.overflowX) &&
      element.scrollWidth > element.clientWidth + 1 &&
      !element.classList.contains('visually-hidden')
    )
      found.push(`${name(element)} hides ${element.scrollWidth - element.clientWidth} px of its content`);
    if (style.textOverflow === 'ellipsis' && element.scrollWidth > element.clientWidth)
      found.push(`${name(element)} is cut off with an ellipsis`);
  }
  return found;
}
