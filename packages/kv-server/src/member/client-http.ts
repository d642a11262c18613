/**
 * HTTP/1.1 on a client URL, as etcd serves it there: the CORS headers of etcd's default
 * `--cors=*` on every answer (and OPTIONS answered with them alone), the JSON gateway under
 * `/v3/` when `--enable-grpc-gateway` is on, then /health, /metrics and /version.
 */
import type http from 'node:http';
import type { GrpcGateway } from '../gateway/grpc-gateway.js';

const CORS_HEADERS: Readonly<Record<string, string>> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'POST, GET, OPTIONS, PUT, DELETE',
  'Access-Control-Allow-Headers': 'accept, content-type, authorization',
};

export function clientHttpHandler(gateway: GrpcGateway | undefined, operational: http.RequestListener): http.RequestListener {
  return (req, res) => {
    for (const [name, value] of Object.entries(CORS_HEADERS)) res.setHeader(name, value);
    if (req.method === 'OPTIONS') {
      res.writeHead(200, { 'Content-Length': 0 });
      res.end();
      return;
    }
    if (gateway?.handle(req, res) === true) return;
    operational(req, res);
  };
}
