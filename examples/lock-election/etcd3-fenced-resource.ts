/**
 * The fenced resource of fenced-resource.ts on the etcd3 npm client: the same two keys and the
 * same server-side compare, so either client can guard the same resource.
 */
import type { Etcd3 } from 'etcd3';
import { decodeToken, encodeToken } from './fencing-token.js';
import type { FencedResource } from './lock-interfaces.js';

export class Etcd3FencedResource implements FencedResource {
  private readonly fence: string;
  private readonly data: string;

  constructor(
    private readonly client: Etcd3,
    name: string,
  ) {
    this.fence = `${name}/fence`;
    this.data = `${name}/data`;
  }

  async init(): Promise<void> {
    // etcd fails every value compare on a missing key, so the fence must exist before writes.
    await this.client
      .if(this.fence, 'Create', '==', 0)
      .then(this.client.put(this.fence).value(encodeToken(0)), this.client.put(this.data).value(''))
      .commit();
  }

  async write(token: number, data: string): Promise<boolean> {
    const response = await this.client
      // fence <= token, written as fence < token + 1: etcd compares with =, !=, < and > only.
      .if(this.fence, 'Value', '<', encodeToken(token + 1))
      .then(this.client.put(this.fence).value(encodeToken(token)), this.client.put(this.data).value(data))
      .commit();
    return response.succeeded;
  }

  async read(): Promise<{ token: number; data: string }> {
    // One range over both keys: a consistent pair from one revision.
    const both = await this.client.getAll().prefix(this.fence.slice(0, this.fence.lastIndexOf('/') + 1)).strings();
    return { token: decodeToken(both[this.fence] ?? ''), data: both[this.data] ?? '' };
  }
}
