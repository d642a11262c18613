/** The object kind of the example: a much reduced Kubernetes Pod. */
import type { ObjectMeta } from './registry.js';

export interface Pod {
  readonly metadata: ObjectMeta;
  readonly spec: { readonly image: string };
  readonly status: { readonly phase: string; readonly restarts: number };
}

export const POD_KIND = 'pods';

export function newPod(namespace: string, name: string, image: string): Pod {
  return { metadata: { namespace, name }, spec: { image }, status: { phase: 'Pending', restarts: 0 } };
}
