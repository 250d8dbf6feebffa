// Preloaded (`node --import`) into the processes the footprint bench measures: on SIGUSR2 it writes
// V8's view of the heap as one `FOOTPRINT {json}` line to stderr. Plain JavaScript on purpose: a
// TypeScript preload would load Node's type stripper into a bundle's process and skew the figure.
import v8 from 'node:v8';

const MiB = 2 ** 20;
process.on('SIGUSR2', () => {
  const m = process.memoryUsage();
  const c = v8.getHeapCodeStatistics();
  const r = (x) => Math.round((x / MiB) * 10) / 10;
  const report = {
    heapUsed: r(m.heapUsed),
    heapTotal: r(m.heapTotal),
    external: r(m.external),
    code: r(c.code_and_metadata_size),
    bytecode: r(c.bytecode_and_metadata_size),
  };
  process.stderr.write(`FOOTPRINT ${JSON.stringify(report)}\n`);
});
