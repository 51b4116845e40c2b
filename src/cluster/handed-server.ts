// A worker's server (the gateway's, the admin API's) that never listens itself: the primary of `sluice start --workers N`
// holds its listening socket and hands it each connection (src/cluster/balancer.ts).
import type { Server, Socket } from 'node:net';

/** Readies `server` for handed connections; what it returns serves one as if the server had accepted it itself. */
export function serveHandedConnections(server: Server): (socket: Socket) => void {
  // node:http starts tracking its connections (the header and request timeouts, closeIdleConnections) when its server
  // starts listening; this one never listens itself, so it is told it does.
  server.emit('listening');
  return (socket) => {
    // What node:net does for a connection its own listener accepts (the server's noDelay, on by default for node:http):
    // without it Nagle's algorithm holds a stream's small writes until the client's delayed ACK, ~40 ms.
    socket.setNoDelay(true);
    server.emit('connection', socket);
  };
}
