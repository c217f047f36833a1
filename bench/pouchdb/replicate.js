// PouchDB client of the comparison: replicates the remote database URL with
// the leveldb database DIR/bench, one shot, with PouchDB's defaults.
// Usage: node replicate.js pull|sync URL DIR. Prints what it did as JSON.
'use strict';
const fs = require('fs');
const path = require('path');
const PouchDB = require('pouchdb');

async function main() {
  const [mode, url, dir] = process.argv.slice(2);
  fs.mkdirSync(dir, { recursive: true });
  const local = new PouchDB(path.join(path.resolve(dir), 'bench'));
  const remote = new PouchDB(url);
  let res;
  if (mode === 'pull') {
    const r = await PouchDB.replicate(remote, local);
    res = { pull: { read: r.docs_read, written: r.docs_written } };
  } else if (mode === 'sync') {
    const r = await PouchDB.sync(local, remote);
    res = {
      push: { read: r.push.docs_read, written: r.push.docs_written },
      pull: { read: r.pull.docs_read, written: r.pull.docs_written },
    };
  } else {
    throw new Error('mode must be pull or sync');
  }
  await local.close();
  console.log(JSON.stringify(res));
}
main().catch((e) => { console.error(e); process.exit(1); });
