import {
  exportPath,
  formatBytes,
  formatCell,
  formatDuration,
  IRuns,
  runColumns,
  sortRows,
  usage
} from '../src/model';

describe('formatting', () => {
  it('shows bytes in the largest unit below 1024', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GB');
  });

  it('shows durations from milliseconds to minutes', () => {
    expect(formatDuration(0.0042)).toBe('4 ms');
    expect(formatDuration(2.345)).toBe('2.3 s');
    expect(formatDuration(75)).toBe('1m 15s');
  });

  it('summarises the store', () => {
    const stats = { store: '/s', entries: 1, experiments: 3, bytes: 2048 };
    expect(usage(stats)).toBe('1 entry, 3 experiment runs, 2.0 KB');
  });

  it('formats cells by column', () => {
    expect(formatCell('key', '0123456789abcdef')).toBe('0123456789');
    expect(formatCell('duration', 0.5)).toBe('500 ms');
    expect(formatCell('accuracy', 0.912345678)).toBe('0.9123');
    expect(formatCell('lr', 3)).toBe('3');
    expect(formatCell('lr', null)).toBe('');
    expect(formatCell('shape', [1, 2])).toBe('[1,2]');
  });
});

describe('runs table', () => {
  const runs: IRuns = {
    function: '__main__.train',
    total: 3,
    metrics: ['accuracy'],
    runs: [
      { key: 'a', created: 't', status: 'ok', duration: 1, lr: 0.1, batch_size: 32, accuracy: 0.7 },
      { key: 'b', created: 't', status: 'ok', duration: 2, lr: 0.3, accuracy: 0.9 },
      { key: 'c', created: 't', status: 'error', duration: 3, lr: 0.2, seed: 1 }
    ]
  };

  it('puts fixed columns, then parameters in order of appearance, then metrics', () => {
    expect(runColumns(runs)).toEqual([
      'key', 'status', 'duration', 'lr', 'batch_size', 'seed', 'accuracy'
    ]);
  });

  it('sorts numbers as numbers and keeps missing values last', () => {
    const up = sortRows(runs.runs, 'accuracy').map(r => r.key);
    const down = sortRows(runs.runs, 'accuracy', true).map(r => r.key);
    expect(up).toEqual(['a', 'b', 'c']);
    expect(down).toEqual(['b', 'a', 'c']);
    expect(sortRows(runs.runs, 'status').map(r => r.status)).toEqual(['error', 'ok', 'ok']);
    expect(runs.runs.map(r => r.key)).toEqual(['a', 'b', 'c']); // input untouched
  });

  it('exports into a folder of the workspace with a safe name', () => {
    expect(exportPath('__main__.train', '0123456789abcdef')).toBe(
      'hitnb-exports/__main__.train-0123456789.ipynb'
    );
    expect(exportPath('../evil/f', 'abc')).toBe('hitnb-exports/.._evil_f-abc.ipynb');
  });
});
