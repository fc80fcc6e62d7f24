import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { dailyModel, monthlyModel } from './email-models';
import { renderEmail, ReportModel } from '../../src/reporting/runtime/render';
import { HeadlessChromium } from '../support/headless-chromium';

/**
 * The emails laid out by a real browser engine at a phone's and a desktop's width: the page must never be wider than
 * the screen (a table may scroll inside its own box). `UPDATE_SCREENSHOTS=1` writes the screenshots to
 * docs/screenshots/ (look at them); otherwise they go to a temporary directory.
 */

jest.setTimeout(120_000);

const WIDTHS = { phone: 390, desktop: 1280 } as const;
/** With the previous period's figures, as a second run has them. */
const EMAILS = {
  daily: () => ({ ...dailyModel(), previous: { kind: 'daily', period: '2026-11-29', requests: 240_000, blocks: 9, clientsBlocked: 14 } }),
  monthly: () => ({ ...monthlyModel(), previous: { kind: 'monthly', period: '2026-10', requests: 8_100_000, blocks: 301, clientsBlocked: 40 } }),
} as const;

let browser: HeadlessChromium;
let dir: string;
const shots = process.env.UPDATE_SCREENSHOTS ? join(__dirname, '..', '..', 'docs', 'screenshots') : undefined;

beforeAll(async () => {
  browser = await HeadlessChromium.launch();
  dir = mkdtempSync(join(tmpdir(), 'email-layout-'));
  if (shots) mkdirSync(shots, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.each(Object.keys(EMAILS) as Array<keyof typeof EMAILS>)('the %s email', (kind) => {
  test.each(Object.entries(WIDTHS))('fits a %s screen (%i px) without sideways scrolling', async (device, width) => {
    const file = join(dir, `${kind}.html`);
    writeFileSync(file, renderEmail(EMAILS[kind]() as ReportModel).html);
    const page = await browser.render(`file://${file}`, width, true);
    writeFileSync(join(shots ?? dir, `email-${kind}-${device}.png`), page.png!);
    expect(page.clientWidth).toBe(width);
    expect({ scrollWidth: page.scrollWidth, overflowing: page.overflowing }).toEqual({ scrollWidth: width, overflowing: [] });
  });
});
