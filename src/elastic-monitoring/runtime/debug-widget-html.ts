/**
 * HTML of the debugging custom widget. CloudWatch shows what a custom widget returns as HTML without JavaScript; a
 * button is an element followed by `<cwdb-action>` whose JSON body is sent back to the widget's function. Every value
 * from configuration or from a check result is escaped, so a customer or host name cannot inject markup.
 */
import { CHECK_NAMES, CheckName, CheckResult, Customer, FrontDoor } from './debug-checks';

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** JSON for inside an element: `<`, `>` and `&` as JSON escapes, so no value can close the element. */
function inertJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

export const CHECK_LABELS: Record<CheckName, string> = {
  waf: 'Through the WAF',
  upstream: 'Direct to upstream',
  dns: 'DNS answers',
};

const CHECK_MEANING: Record<CheckName, string> = {
  waf: 'HEAD through the WAF front door with the site\'s Host and TLS name, from inside and outside the VPC.',
  upstream: 'HEAD direct to the upstream with the site\'s Host, from inside (must work) and outside (must fail).',
  dns: 'Every DNS answer for each hostname must be a WAF front-door address.',
};

/** The widget: one row per customer, one button per check (each asks for confirmation, as it sends requests). */
export function renderWidget(customers: readonly Customer[], endpoint: string, frontDoor: FrontDoor): string {
  const rows = customers.map((c) => {
    const hosts = c.apps.flatMap((a) => a.hostnames);
    const buttons = CHECK_NAMES.map((check) => {
      const confirmation = `Run "${CHECK_LABELS[check]}" for ${c.name} (${hosts.length} host(s))?`;
      return `<a class="btn">${escapeHtml(CHECK_LABELS[check])}</a>`
        + `<cwdb-action action="call" endpoint="${escapeHtml(endpoint)}" display="popup" confirmation="${escapeHtml(confirmation)}">`
        + `${inertJson({ customer: c.name, check })}</cwdb-action>`;
    }).join(' ');
    return `<tr><td>${escapeHtml(c.name)}</td><td>${hosts.map(escapeHtml).join('<br>')}</td><td>${buttons}</td></tr>`;
  });
  const door = [...frontDoor.dnsNames, ...frontDoor.ipAddresses].map(escapeHtml).join(', ');
  return [
    `<p>WAF front door: ${door || 'not configured'}. Each button runs one check for every hostname of the customer.</p>`,
    '<table><thead><tr><th>Customer</th><th>Hostnames</th><th>Checks</th></tr></thead><tbody>',
    rows.join('') || '<tr><td colspan="3">No customers configured.</td></tr>',
    '</tbody></table>',
  ].join('');
}

/** The popup: one row per host and place checked. */
export function renderResults(results: readonly CheckResult[], failures: readonly string[]): string {
  const rows = results.map((r) => {
    const status = r.status === undefined ? '-'
      : r.redirectTo !== undefined ? `${r.status} redirect to ${r.redirectTo || '(no Location)'}` : String(r.status);
    const finding = r.finding !== '' ? `<b>${escapeHtml(r.finding)}</b>`
      : r.notContacted ? `Not contacted: ${escapeHtml(r.notContacted)}` : 'OK';
    return `<tr><td>${escapeHtml(r.host)}</td><td>${escapeHtml(CHECK_LABELS[r.check])}</td><td>${escapeHtml(r.location)}</td>`
      + `<td>${escapeHtml(r.target)}</td><td>${r.reachable ? 'yes' : 'no'}</td><td>${escapeHtml(status)}</td>`
      + `<td>${Math.round(r.latencyMs)} ms</td><td>${finding}</td></tr>`;
  });
  const problems = failures.map((f) => `<p><b>${escapeHtml(f)}</b></p>`).join('');
  return [
    problems,
    '<table><thead><tr><th>Host</th><th>Check</th><th>From</th><th>Target</th><th>Reachable</th><th>Status</th>',
    '<th>Latency</th><th>Finding</th></tr></thead><tbody>',
    rows.join('') || '<tr><td colspan="8">No results.</td></tr>',
    '</tbody></table>',
  ].join('');
}

/** What the widget's `describe` returns. */
export function describeWidget(): string {
  return [
    '## WAF debugging checks',
    '',
    'One row per customer; each button runs a check for every hostname of the customer and shows a table.',
    '',
    ...CHECK_NAMES.map((c) => `* **${CHECK_LABELS[c]}**: ${CHECK_MEANING[c]}`),
    '',
    'Only configured customers and hosts are ever contacted; never loopback, link-local or cloud metadata addresses, and',
    'private ones only from inside the VPC. Redirects are reported, not followed. Results are also logged, one event per host.',
  ].join('\n');
}
