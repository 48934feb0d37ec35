import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's chromium (stack/lib.sh installs it with the system packages): playwright-core downloads no browser. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless chromium with a fresh profile, told not to reach the network on its own (updates, sync, field trials):
 * the machine's network is closed, and a browser that tries waits on it.
 */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(path.join(tmpdir(), 'console-chromium-'));
  // playwright passes the profile as --user-data-dir itself (and refuses it among the args).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1366, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeFinding {
  page: string;
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/**
 * axe-core's WCAG 2.x A and AA rules on the page as it is now. Evaluated through the DevTools protocol, which the
 * page's Content-Security-Policy does not apply to, so the console's CSP stays as users get it.
 */
export async function axeFindings(page: Page, label: string): Promise<AxeFinding[]> {
  await page.evaluate(AXE_SOURCE);
  const result = (await page.evaluate(`axe
    .run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(AXE_TAGS)} } })
    .then((r) => ({
      passed: r.passes.length,
      violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) })),
    }))`)) as { passed: number; violations: Omit<AxeFinding, 'page'>[] };
  // A run that checked nothing would find nothing: make sure the rules met the page.
  if (result.passed < 10) throw new Error(`axe-core checked only ${result.passed} rules on ${label}: was the page empty?`);
  const violations = result.violations;
  return violations.map((v) => ({ page: label, ...v }));
}

/** The accessibility rules' findings over the pages a test file visits, reported once at its end. */
export class AxeLog {
  readonly findings: AxeFinding[] = [];
  readonly checked: string[] = [];

  async check(page: Page, label: string): Promise<void> {
    this.findings.push(...(await axeFindings(page, label)));
    this.checked.push(label);
  }

  /** What the run found, for the test's output (the closing note quotes it). */
  report(): string {
    const lines = [`axe-core (WCAG 2.1 A/AA + best practices) on ${this.checked.length} pages: ${this.checked.join(', ')}`];
    for (const f of this.findings) lines.push(`  ${f.page}: ${f.id} (${f.impact}) ${f.help}: ${f.targets.slice(0, 3).join(' | ')}`);
    if (this.findings.length === 0) lines.push('  no violations');
    return lines.join('\n');
  }

  /** The findings as one line each, for an assertion that there are none. */
  violations(): string[] {
    return this.findings.map((f) => `${f.page}: ${f.id} ${f.targets.join(' | ')}`);
  }
}
