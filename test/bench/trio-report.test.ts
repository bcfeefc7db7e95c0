/**
 * The three-servers table: a ratio inverted or an "ahead" read the wrong way round for times
 * would turn the seed's comparison upside down in bench/results.
 */
import { describe, expect, it } from 'vitest';
import type { Report, Sample } from '../../bench/report.js';
import { renderGodotTrio } from '../../bench/trio-report.js';

function report(samples: Sample[]): Report {
  return { date: '2026-01-01T00:00:00.000Z', mode: 'full', reps: 2, node: 'v20', godot: '/godot', machine: '2 cores', scenarios: [], samples };
}

const sample = (scenario: string, target: string, rep: number, value: number, extra: Record<string, number> = {}): Sample => ({ scenario, target, rep, value, extra });

function row(markdown: string, title: string): string[] {
  const line = markdown.split('\n').find((l) => l.startsWith(`| ${title} |`));
  if (line === undefined) throw new Error(`no row "${title}" in:\n${markdown}`);
  return line.split(' | ').map((c) => c.replace(/^\| | \|$/g, ''));
}

describe('renderGodotTrio', () => {
  it('gives medians with spread, paired ratios, and who is ahead for a rate', () => {
    const md = renderGodotTrio(
      report([
        sample('echo1', 'godot-native', 0, 1000, { load1: 2 }),
        sample('echo1', 'godot-native', 1, 1200, { load1: 3 }),
        sample('echo1', 'godot-addon', 0, 1000),
        sample('echo1', 'godot-addon', 1, 1200),
        sample('echo1', 'seed', 0, 100, { load1: 5 }),
        sample('echo1', 'seed', 1, 120),
      ]),
    );
    expect(row(md, 'Echo 64 B text, 1 client × 8 in flight')).toEqual([
      'Echo 64 B text, 1 client × 8 in flight',
      'round trips/s',
      '1100 (1000–1200)',
      '1100 (1000–1200)',
      '110 (100–120)',
      '0.10× (0.10–0.10)',
      '**no**',
      '10.0× (10.0–10.0)',
      'yes',
      '2.00–5.00',
    ]);
  });

  it('counts a smaller time as ahead', () => {
    const md = renderGodotTrio(report([sample('frame-idle', 'godot-native', 0, 2000), sample('frame-idle', 'godot-addon', 0, 50), sample('frame-idle', 'seed', 0, 10)]));
    const cells = row(md, 'Main-thread time per frame, 1,000 idle clients');
    expect(cells.slice(5, 9)).toEqual(['0.0050×', 'yes', '5.00×', '**no**']);
  });

  it('derives main-thread time per message from frame time, frame rate and round trips', () => {
    const md = renderGodotTrio(report([sample('echo100', 'seed', 0, 15_000, { frame_us: 1500, fps: 100 }), sample('echo100', 'godot-native', 0, 30_000, { frame_us: 15_000, fps: 50 })]));
    const cells = row(md, 'Main-thread time per echoed message, 100 clients (µs/frame × fps ÷ round trips/s)');
    expect(cells.slice(2, 7)).toEqual(['25.0', '—', '10.0', '0.40×', 'yes']);
  });

  it('leaves out figures no server has and lists the seed\'s failures', () => {
    const md = renderGodotTrio(report([sample('echo1', 'seed', 0, 150), { scenario: 'storm', target: 'seed', rep: 0, value: NaN, error: 'did not print READY' }]));
    expect(md).not.toContain('| Echo 64 KiB binary');
    expect(md).toContain('- storm, rep 1: did not print READY');
  });
});
