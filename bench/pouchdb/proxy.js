// A TCP relay that counts the bytes going through it in each direction:
// the bytes on the wire of whatever HTTP runs over it.
// Usage: node proxy.js LISTEN_PORT TARGET_PORT OUT_FILE. Prints "ready";
// on SIGTERM writes {"up": bytes to the server, "down": bytes back} to
// OUT_FILE and exits.
'use strict';
const fs = require('fs');
const net = require('net');

const [listen, target, out] = process.argv.slice(2);
let up = 0;
let down = 0;
const server = net.createServer((c) => {
  const s = net.connect(+target, '127.0.0.1');
  c.on('data', (b) => { up += b.length; });
  s.on('data', (b) => { down += b.length; });
  c.pipe(s);
  s.pipe(c);
  c.on('error', () => s.destroy());
  s.on('error', () => c.destroy());
});
server.listen(+listen, '127.0.0.1', () => console.log('ready'));
process.on('SIGTERM', () => {
  fs.writeFileSync(out, JSON.stringify({ up, down }) + '\n');
  process.exit(0);
});
