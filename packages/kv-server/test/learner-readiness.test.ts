/** etcd's learner readiness rule: a learner's match index must reach 90% of the leader's. */
import { describe, expect, it } from 'vitest';
import { EtcdError } from '../src/etcd-errors.js';
import { checkLearnerReady } from '../src/server/learner-readiness.js';

const refusal = (fn: () => void): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof EtcdError ? err.message : String(err);
  }
};

describe('checkLearnerReady', () => {
  it('promotes at 90% of the leader\'s match index and refuses below it', () => {
    const progress = (learner: number) => ({ leaderId: 1, matchIndex: { 1: 1000, 2: 1000, 7: learner } });
    expect(refusal(() => checkLearnerReady(progress(900), 7))).toBeUndefined();
    expect(refusal(() => checkLearnerReady(progress(1000), 7))).toBeUndefined();
    expect(refusal(() => checkLearnerReady(progress(899), 7))).toBe('etcdserver: can only promote a learner member which is in sync with leader');
    expect(refusal(() => checkLearnerReady(progress(0), 7))).toBe('etcdserver: can only promote a learner member which is in sync with leader');
  });

  it('lets through a member the leader does not track (checked again when the change applies, as in etcd)', () => {
    expect(refusal(() => checkLearnerReady({ leaderId: 1, matchIndex: { 1: 50 } }, 9))).toBeUndefined();
  });
});
