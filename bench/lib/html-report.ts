/**
 * A suite's results as one self-contained HTML page: the machine and the commit they were
 * measured on, the options, the text table, and the charts as inline SVG. No scripts, no
 * external styles or fonts: the file can be mailed, attached to an issue, or opened offline.
 */
import { describeMachine } from './machine.js';
import type { MachineInfo } from './machine.js';
import type { Chart } from './suite.js';
import { escapeXml, renderChart } from './svg-chart.js';

export interface HtmlReportInput {
  suite: string;
  description: string;
  startedAt: string;
  machine: MachineInfo;
  options: unknown;
  /** The suite's text report (tables), shown as preformatted text. */
  text: string;
  charts: readonly Chart[];
}

const STYLE = `
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #111; }
h1 { font-size: 1.5rem; margin-bottom: 0.25rem; }
p.description { color: #444; margin-top: 0; }
table.machine { border-collapse: collapse; margin: 1rem 0; }
table.machine th { text-align: left; padding: 0.15rem 1rem 0.15rem 0; color: #555; font-weight: 500; }
table.machine td { padding: 0.15rem 0; font-family: ui-monospace, 'SF Mono', Menlo, Consolas, monospace; }
pre { background: #f6f6f6; padding: 1rem; overflow-x: auto; font-size: 0.8rem; line-height: 1.35; }
figure { margin: 1.5rem 0; }
figure svg { max-width: 100%; height: auto; border: 1px solid #eee; }
`;

function row(name: string, value: string): string {
  return `<tr><th>${escapeXml(name)}</th><td>${escapeXml(value)}</td></tr>`;
}

export function renderHtmlReport(input: HtmlReportInput): string {
  const m = input.machine;
  const commit = `${m.gitCommit}${m.gitDirty ? ' (with uncommitted changes)' : ''}`;
  const machineRows = [
    row('CPU', m.cpuModel),
    row('cores', String(m.cores)),
    row('memory', `${m.totalMemoryGiB} GiB`),
    row('Node', `${m.nodeVersion} (V8 ${m.v8Version})`),
    row('platform', `${m.platform} ${m.arch}`),
    row('commit', commit),
    row('started', input.startedAt),
    row('options', JSON.stringify(input.options)),
  ].join('\n');
  const charts = input.charts.map((c) => `<figure>\n${renderChart(c)}\n</figure>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(`pontoon bench: ${input.suite}, ${input.startedAt}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>bench: ${escapeXml(input.suite)}</h1>
<p class="description">${escapeXml(input.description)}</p>
<p>${escapeXml(describeMachine(m))}</p>
<table class="machine">
${machineRows}
</table>
<pre>${escapeXml(input.text)}</pre>
${charts}
</body>
</html>
`;
}
