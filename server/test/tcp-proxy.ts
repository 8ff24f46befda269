import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy in front of a real service, so a test can take the service "down"
 * (refuse and cut connections) and bring it back without touching the service itself.
 */
export interface TcpProxy {
  port: number;
  url: string;
  /** Closes the listening port and cuts open connections: clients see the service as down. */
  down(): Promise<void>;
  /**
   * A partition: connections stay open and new ones are accepted, but no byte passes either way, so
   * nothing fails fast (a client waits for its own timeouts, if it has any). up() ends it.
   */
  stall(): void;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  const pairs = new Set<[Socket, Socket]>();
  let stalled = false;
  let server: Server | null = null;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        if (stalled) {
          // Accepted and then never answered.
          sockets.add(client);
          client.pause();
          client.on('error', () => client.destroy()).on('close', () => sockets.delete(client));
          return;
        }
        const upstream = connect(Number(target.port), target.hostname);
        const pair: [Socket, Socket] = [client, upstream];
        pairs.add(pair);
        sockets.add(client).add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
          pairs.delete(pair);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        client.pipe(upstream).pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as { port: number }).port;
        resolve();
      });
    });
  const stall = () => {
    stalled = true;
    for (const [client, upstream] of pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  };
  const down = async () => {
    const s = server;
    server = null;
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await listen();
  return {
    port,
    url: `${target.protocol}//127.0.0.1:${port}`,
    down,
    stall,
    // After a partition the stalled connections are dead to both sides: cut them, then forward again.
    up: async () => {
      if (stalled) {
        stalled = false;
        for (const socket of sockets) socket.destroy();
        sockets.clear();
        pairs.clear();
      }
      if (!server) await listen();
    },
    close: down,
  };
}
