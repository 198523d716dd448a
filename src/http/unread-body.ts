// An answer given before the request's body has arrived closes the connection.
//
// Some requests are answered without reading their body: a route that needs a session or a bearer
// token refuses without one (401), an unknown path is a 404, a declared Content-Length over a body
// limit is refused at once (413 on our forms; oidc-provider's own parser answers that with a 400
// invalid_request). Those answers are true and should not wait for a body no one reads. But on a
// kept-alive connection the rest of that body is still due, and if it never comes, Node's request
// timeout (GATEHOUSE_REQUEST_TIMEOUT_SECONDS, src/server.ts) later writes its own raw
// "408 Request Timeout" after the answer already sent: a second response to one request, which a
// client would read as the answer to its next one. Closing the connection after such an answer
// (as HTTP/1.1 expects of a server that answers before it has read the whole body) leaves one answer
// per request, and a client that sends its body slowly still gets the 408 from whichever route
// waits for it.
import type { IncomingMessage, ServerResponse } from 'node:http';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * A request that declares a body (a length above 0, or chunked) whose end has not been read yet.
 * Not `!req.complete` alone: a GET without a body is marked complete only after its handler has
 * started, so an answer written at once (the kept discovery and JWKS responses) would close every
 * kept-alive connection.
 */
function bodyStillDue(req: IncomingMessage): boolean {
  if (req.complete) return false;
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

export function closeWhenBodyUnread(handler: Handler): Handler {
  return (req, res) => {
    const writeHead = res.writeHead;
    // every answer passes here (Node's implicit headers call it too), before its head is written
    res.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
      if (bodyStillDue(req)) this.shouldKeepAlive = false; // sends Connection: close, closes once sent
      return writeHead.apply(this, args);
    } as ServerResponse['writeHead'];
    handler(req, res);
  };
}
