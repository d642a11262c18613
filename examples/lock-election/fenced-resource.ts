/**
 * A resource kept in the store itself and guarded by fencing tokens (see fencing-token.ts):
 * `<name>/fence` holds the largest token seen, `<name>/data` the data. A write is one
 * transaction that compares the fence on the server, so the check and the write cannot be
 * separated by another holder's write.
 */
import { utf8, type KvMember } from '@pontoon/kv';
import { decodeToken, encodeToken } from './fencing-token.js';
import type { FencedResource } from './lock-interfaces.js';

/** A fenced resource on the embedded @pontoon/kv API. */
export class KvFencedResource implements FencedResource {
  private readonly fence: Uint8Array;
  private readonly data: Uint8Array;

  constructor(
    private readonly member: KvMember,
    name: string,
  ) {
    this.fence = utf8(`${name}/fence`);
    this.data = utf8(`${name}/data`);
  }

  async init(): Promise<void> {
    // etcd fails every value compare on a missing key, so the fence must exist before writes.
    await this.member.txn({
      compare: [{ key: this.fence, target: 'create', result: 'equal', createRevision: 0 }],
      success: [{ put: { key: this.fence, value: utf8(encodeToken(0)) } }, { put: { key: this.data, value: new Uint8Array(0) } }],
      failure: [],
    });
  }

  async write(token: number, data: string): Promise<boolean> {
    const response = await this.member.txn({
      // fence <= token, written as fence < token + 1: etcd compares with =, !=, < and > only.
      compare: [{ key: this.fence, target: 'value', result: 'less', value: utf8(encodeToken(token + 1)) }],
      success: [{ put: { key: this.fence, value: utf8(encodeToken(token)) } }, { put: { key: this.data, value: utf8(data) } }],
      failure: [],
    });
    return response.succeeded;
  }

  async read(): Promise<{ token: number; data: string }> {
    const response = await this.member.txn({
      compare: [],
      success: [{ range: { key: this.fence } }, { range: { key: this.data } }],
      failure: [],
    });
    const [fence, data] = response.responses.map((op) => ('range' in op ? Buffer.from(op.range.kvs[0]?.value ?? []).toString() : ''));
    return { token: decodeToken(fence!), data: data! };
  }
}
