// A greenfork worker in Node.js (no packages).
//
// arbiterd passes the listening sockets as fds 3, 4, ... (LISTEN_FDS,
// LISTEN_PID), systemd-style; Node's http server can listen on an fd
// directly ({fd: 3}). Readiness and watchdog go out as sd_notify datagrams.
// Node has no unix datagram sockets, so the pool starts this file through
// notify_fd.py, which connects one to $NOTIFY_SOCKET and execs node with it
// open as $NOTIFY_FD (exec keeps the pid arbiterd knows):
//
//   arbiterd -w 2 -b 127.0.0.1:8002 --heartbeat notify -- \
//       /usr/bin/python3 notify_fd.py node node_worker.js
//
// Without NOTIFY_FD it runs silently, which heartbeat = "auto" accepts
// (ready after 1 s, no watchdog). Alone (no LISTEN_FDS) it binds
// 127.0.0.1:$PORT (default 8002).
'use strict';

const fs = require('fs');
const http = require('http');

const FIRST_LISTEN_FD = 3;
const notifyFd = process.env.NOTIFY_FD ? Number(process.env.NOTIFY_FD) : -1;

function sdNotify(state) {
  if (notifyFd < 0) return;
  try {
    fs.writeSync(notifyFd, state);
  } catch (err) {
    console.error(`node_worker[${process.pid}]: sd_notify: ${err.message}`);
  }
}

function handler(req, res) {
  const body = `Hello from the Node.js worker, pid ${process.pid}\n`;
  res.writeHead(200, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

function listenTargets() {
  const count = Number(process.env.LISTEN_FDS || 0);
  if (process.env.LISTEN_PID !== String(process.pid) || count <= 0) {
    return [{ host: '127.0.0.1', port: Number(process.env.PORT || 8002) }];
  }
  return Array.from({ length: count }, (_, i) => ({ fd: FIRST_LISTEN_FD + i }));
}

const servers = listenTargets().map((target) => {
  const server = http.createServer(handler);
  server.listen(target);
  return server;
});

let listening = 0;
for (const server of servers) {
  server.on('listening', () => {
    listening += 1;
    if (listening === servers.length) {
      sdNotify(`READY=1\nSTATUS=serving on ${servers.length} socket(s)`);
    }
  });
  server.on('error', (err) => {
    console.error(`node_worker[${process.pid}]: ${err.message}`);
    process.exit(3); // failed to boot
  });
}

// arbiterd wants a beat at least every ARBITER_HEARTBEAT_INTERVAL seconds.
const intervalMs = 1000 * Number(process.env.ARBITER_HEARTBEAT_INTERVAL || 5);
const watchdog = setInterval(() => sdNotify('WATCHDOG=1'), intervalMs);

// TERM: stop accepting, let requests in flight finish, then exit 0.
process.on('SIGTERM', () => {
  sdNotify('STOPPING=1');
  clearInterval(watchdog);
  let open = servers.length;
  for (const server of servers) {
    server.close(() => {
      open -= 1;
      if (open === 0) process.exit(0);
    });
    server.closeIdleConnections();
  }
});
process.on('SIGINT', () => process.exit(0));
process.on('SIGQUIT', () => process.exit(0));
