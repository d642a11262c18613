/**
 * The client side: an Echo client whose channel target is the registry (`etcd:///services/echo`)
 * and whose service config spreads calls round-robin and retries a call that hit an instance as
 * it went away.
 */
import { credentials } from '@grpc/grpc-js';
import { ECHO_SERVICE, EchoClient } from './echo-service.js';

/**
 * The channel's service config (gRFC A2). `round_robin` keeps a connection to every resolved
 * address and rotates over the ready ones. The retry policy (gRFC A6) covers the call that was
 * on its way to an instance when it crashed or closed: UNAVAILABLE before any answer is safe to
 * send again, here to another instance. `waitForReady` lets a call wait for an instance (until
 * its deadline) instead of failing while none is connected, say between a crash and the next
 * connection.
 */
export const ECHO_SERVICE_CONFIG = {
  loadBalancingConfig: [{ round_robin: {} }],
  methodConfig: [
    {
      name: [{ service: ECHO_SERVICE }],
      waitForReady: true,
      retryPolicy: {
        maxAttempts: 5,
        initialBackoff: '0.05s',
        maxBackoff: '0.5s',
        backoffMultiplier: 2,
        retryableStatusCodes: ['UNAVAILABLE'],
      },
    },
  ],
};

/**
 * An Echo client on `target` (`etcd:///services/echo` once registerEtcdResolver ran; any grpc-js
 * target works). Close it with `client.close()`.
 */
export function createEchoClient(target: string): EchoClient {
  return new EchoClient(target, credentials.createInsecure(), {
    'grpc.service_config': JSON.stringify(ECHO_SERVICE_CONFIG),
  });
}
