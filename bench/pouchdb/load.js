// Loads JSON Lines documents into the leveldb database DIR/bench, creating
// them or, for documents that exist, replacing their content (an edit).
// Usage: node load.js DIR FILE.jsonl
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const PouchDB = require('pouchdb');

async function main() {
  const [dir, file] = process.argv.slice(2);
  fs.mkdirSync(dir, { recursive: true });
  const db = new PouchDB(path.join(path.resolve(dir), 'bench'));
  let batch = [];
  const flush = async () => {
    const old = await db.allDocs({ keys: batch.map((d) => d._id) });
    old.rows.forEach((r, i) => { if (r.value && !r.value.deleted) batch[i]._rev = r.value.rev; });
    for (const r of await db.bulkDocs(batch)) {
      if (r.error) throw new Error(`${r.id}: ${r.error} ${r.reason}`);
    }
    batch = [];
  };
  const lines = readline.createInterface({ input: fs.createReadStream(file) });
  for await (const line of lines) {
    if (!line) continue;
    batch.push(JSON.parse(line));
    if (batch.length === 500) await flush();
  }
  if (batch.length) await flush();
  await db.close();
}
main().catch((e) => { console.error(e); process.exit(1); });
