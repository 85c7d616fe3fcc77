import { connect, createServer, type Socket } from 'node:net';
import type { ExecutionContext } from 'ava';

export interface TcpProxy {
  /** The port it listens on, 127.0.0.1. */
  port: number;
  /** Connections cut by `cutOnResponse` so far. */
  cut: number;
}

export interface TcpProxyOptions {
  /**
   * Asked each time the server answers something: true cuts the connection (both sides) instead
   * of passing the answer on, as a server that took a request and failed before its answer left.
   */
  cutOnResponse?: () => boolean;
}

/** A real TCP relay on 127.0.0.1 in front of the server at 127.0.0.1:`targetPort`, closed at the end of the test. */
export async function startTcpProxy(t: ExecutionContext, targetPort: number, options: TcpProxyOptions = {}): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const proxy: TcpProxy = { port: 0, cut: 0 };
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const close = (): void => {
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        sockets.delete(socket);
        close();
      });
    }
    client.pipe(upstream);
    upstream.on('data', (data: Buffer) => {
      if (options.cutOnResponse?.()) {
        proxy.cut++;
        close();
      } else {
        client.write(data);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  proxy.port = (server.address() as { port: number }).port;
  return proxy;
}
