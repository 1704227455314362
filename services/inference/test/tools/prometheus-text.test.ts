import { metricValue } from '../../tools/prometheus-text';

const TEXT = `# HELP fer_batch_items_total Faces leaving a batching queue
# TYPE fer_batch_items_total counter
fer_batch_items_total{model="tiny",version="1",outcome="ok"} 12
fer_batch_items_total{model="tiny",version="2",outcome="ok"} 3
fer_batch_items_total{model="tiny",version="1",outcome="cancelled"} 1
fer_batch_size_sum{model="tiny",version="1"} 30
fer_batch_size_count{model="tiny",version="1"} 10
process_resident_memory_bytes 123456789
`;

describe('metricValue', () => {
  test('sums the samples whose labels match', () => {
    expect(metricValue(TEXT, 'fer_batch_items_total', { outcome: 'ok' })).toBe(15);
    expect(metricValue(TEXT, 'fer_batch_items_total', { outcome: 'ok', version: '2' })).toBe(3);
    expect(metricValue(TEXT, 'fer_batch_items_total')).toBe(16);
  });

  test('does not confuse names that share a prefix', () => {
    expect(metricValue(TEXT, 'fer_batch_size_sum')).toBe(30);
    expect(metricValue(TEXT, 'fer_batch_size')).toBe(0);
    expect(metricValue(TEXT, 'process_resident_memory_bytes')).toBe(123456789);
    expect(metricValue(TEXT, 'absent_metric')).toBe(0);
  });
});
