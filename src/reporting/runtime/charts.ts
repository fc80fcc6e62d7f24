import { escapeHtml, formatCount, formatDecimal } from './format';

/**
 * Small inline SVG charts: no image hosting, no external request when the mail is opened. Every text is escaped.
 */

export interface ChartPoint {
  readonly label: string;
  readonly value?: number;
}

export interface BarChartOptions {
  readonly title: string;
  readonly width?: number;
  readonly height?: number;
  readonly color?: string;
  /** Decimals of the maximum shown on the axis. */
  readonly decimals?: 0 | 1;
}

/** Bars with the maximum on the axis and at most ~12 labels under them; an empty series draws an empty frame. */
export function barChart(points: readonly ChartPoint[], options: BarChartOptions): string {
  const width = options.width ?? 480;
  const height = options.height ?? 150;
  const top = 24;
  const bottom = 20;
  const left = 44;
  const plotH = height - top - bottom;
  const plotW = width - left - 6;
  const values = points.map((p) => (p.value !== undefined && Number.isFinite(p.value) ? p.value : 0));
  const max = Math.max(0, ...values);
  const slot = points.length > 0 ? plotW / points.length : plotW;
  const every = Math.max(1, Math.ceil(points.length / 12));
  const color = options.color ?? '#2f6fb0';
  const bars = points.map((p, i) => {
    const v = values[i];
    const h = max > 0 ? (v / max) * plotH : 0;
    const x = left + i * slot + slot * 0.15;
    const y = top + plotH - h;
    const label = i % every === 0
      ? `<text x="${(left + i * slot + slot / 2).toFixed(1)}" y="${height - 5}" font-size="12" text-anchor="middle" fill="#555">${escapeHtml(p.label)}</text>`
      : '';
    const tip = `<title>${escapeHtml(p.label)}: ${p.value === undefined ? '–' : formatDecimal(p.value, 1)}</title>`;
    return `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${h.toFixed(1)}" fill="${color}">${tip}</rect>${label}`;
  });
  const maxLabel = options.decimals === 1 ? formatDecimal(max, 1) : formatCount(max);
  return [
    // Fluid: as wide as the column up to its drawn width, the height following from the viewBox (phones are ~360 px).
    `<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 ${width} ${height}" style="display:block;width:100%;max-width:${width}px;height:auto;margin:4px 0" role="img" aria-label="${escapeHtml(options.title)}">`,
    `<text x="0" y="14" font-size="13" font-weight="bold" fill="#222">${escapeHtml(options.title)}</text>`,
    `<line x1="${left}" y1="${top + plotH}" x2="${width - 6}" y2="${top + plotH}" stroke="#999"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#999"/>`,
    `<text x="${left - 4}" y="${top + 8}" font-size="12" text-anchor="end" fill="#555">${escapeHtml(maxLabel)}</text>`,
    `<text x="${left - 4}" y="${top + plotH}" font-size="12" text-anchor="end" fill="#555">0</text>`,
    ...bars,
    '</svg>',
  ].join('');
}
