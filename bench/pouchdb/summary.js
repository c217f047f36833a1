// Prints the medians of the results run.sh collected and the ratios
// feedsync / PouchDB. Usage: node summary.js RESULTS.tsv ITEMS RUNS ITEM_BYTES
'use strict';
const fs = require('fs');

const [file, items, runs, itemBytes] = process.argv.slice(2);
const vals = {};
for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
  if (!line) continue;
  const [scen, side, metric, v] = line.split('\t');
  const k = `${scen}\t${side}\t${metric}`;
  (vals[k] = vals[k] || []).push(+v);
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const get = (scen, side, metric) => {
  const xs = vals[`${scen}\t${side}\t${metric}`];
  return xs ? median(xs) : undefined;
};
const fmt = (metric, v) => {
  if (v === undefined) return '-';
  if (/bytes|store/.test(metric)) return `${(v / 1e6).toFixed(1)} MB`;
  if (/mb$/.test(metric)) return `${v.toFixed(1)} MB`;
  return `${v.toFixed(2)} s`;
};
const ratio = (a, b) => (a === undefined || b === undefined || b === 0 ? '-' : `${(a / b).toFixed(2)}x`);

console.log(`\n${items} items (${itemBytes} bytes of feed XML each), medians of ${runs} alternating runs`);
console.log('scenario  metric          feedsync      pouchdb       feedsync/pouchdb');
const row = (scen, metric, a, b, note = '') => console.log(
  `${scen.padEnd(9)} ${metric.padEnd(15)} ${fmt(metric, a).padEnd(13)} ${fmt(metric, b).padEnd(13)} ${ratio(a, b)}${note}`);
for (const scen of ['pull', 'twoway']) {
  for (const metric of ['client_cpu', 'server_cpu', 'wall', 'wire_bytes', 'client_store']) {
    const a = get(scen, 'feedsync', metric);
    const b = get(scen, 'pouchdb', metric);
    if (a === undefined && b === undefined) continue;
    row(scen, metric, a, b);
  }
  for (const side of ['feedsync', 'pouchdb']) {
    if (vals[`${scen}\t${side}\tfailed`]) console.log(`${scen.padEnd(9)} ${side} FAILED in ${vals[`${scen}\t${side}\tfailed`].length} run(s)`);
  }
}
if (get('store', 'feedsync', 'server_store') !== undefined) {
  row('store', 'server_store', get('store', 'feedsync', 'server_store'), get('store', 'pouchdb', 'server_store'));
}
const tw = get('twoway', 'feedsync', 'wire_bytes');
if (tw !== undefined) {
  const budget = 200 * +itemBytes + 100 * +items;
  console.log(`twoway    wire budget     ${fmt('bytes', budget)} (200 items of ${itemBytes} bytes + 100 bytes per item): feedsync ${ratio(tw, budget)} of it`);
}
const m = get('merge', 'feedsync-merge', 'wall');
if (m !== undefined) {
  // Two floors: read both feeds and write one with feedsync's tokenizer
  // (Floor), and with encoding/xml (FloorEncodingXML).
  for (const [side, name] of [['floor', 'floor'], ['floor-encoding-xml', 'encoding/xml floor']]) {
    if (get('merge', side, 'wall') === undefined) continue;
    console.log(`\nmerge vs the ${name} (read both feeds, write one)`);
    console.log('merge     metric          merge         floor         merge/floor');
    for (const metric of ['wall', 'cpu', 'peak_live_mb']) {
      row('merge', metric, get('merge', 'feedsync-merge', metric), get('merge', side, metric));
    }
  }
}
