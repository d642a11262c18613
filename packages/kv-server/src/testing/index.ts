/**
 * Test support for differential tests against a reference etcd 3.4 (Debian's etcd-server and
 * etcd-client; `.ci/install-etcd.sh` installs them). Import from `pontoon-kv/testing`.
 */
export { etcdBinary, type EtcdBinaryName } from './etcd-binary.js';
export {
  isHealthy,
  startEtcdCluster,
  type EtcdCluster,
  type EtcdClusterOptions,
  type EtcdMember,
} from './etcd-cluster.js';
export { etcdctlOutput, parseEtcdctlJson, runEtcdctl, type EtcdctlResult } from './etcdctl.js';
export { freePort } from './free-port.js';
export { EtcdNotInstalledError, EtcdStartError } from '../errors.js';
export {
  PONTOON_KV_BIN,
  startPontoonKv,
  startPontoonKvCluster,
  type PontoonKvCluster,
  type PontoonKvClusterOptions,
  type PontoonKvMember,
} from './pontoon-kv-cluster.js';
