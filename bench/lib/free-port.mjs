import { createServer } from 'node:net';

// Ports handed out for a server that is started, stopped and started again on the same port (the
// chaos run's aggregators, a receiver restarted by a test) are drawn below the kernel's ephemeral
// range (32768-60999 on Linux): a port-0 bind elsewhere (another test's server, running at the
// same time) is given an ephemeral port, so it can never take such a port while its server is
// down and receive the traffic meant for it.
const LOW = 20000;
const HIGH = 32767;

/** A port on 127.0.0.1 that was free a moment ago, outside the ephemeral range. */
export async function freePort() {
  for (let attempt = 0; ; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW + 1));
    const free = await new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', (error) => (error.code === 'EADDRINUSE' || error.code === 'EACCES' ? resolve(false) : reject(error)));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
    if (attempt > 100) throw new Error('no free port below the ephemeral range');
  }
}
