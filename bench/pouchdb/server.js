// PouchDB server of the comparison: express-pouchdb 4 on express 4, leveldb
// databases in DIR. Usage: node server.js DIR PORT. Prints "ready" once
// listening; SIGTERM stops it.
'use strict';
const path = require('path');
const express = require('express');
const PouchDB = require('pouchdb');

const [dir, port] = process.argv.slice(2);
const Pouch = PouchDB.defaults({ prefix: path.resolve(dir) + '/' });
const app = express();
app.use('/', require('express-pouchdb')(Pouch, {
  mode: 'minimumForPouchDB',
  configPath: path.join(dir, 'config.json'),
  logPath: path.join(dir, 'log.txt'),
}));
const server = app.listen(+port, '127.0.0.1', () => console.log('ready'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
