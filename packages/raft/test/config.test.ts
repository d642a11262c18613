import { describe, expect, test } from 'vitest';
import { ConfigError, MemoryStorage, RawNode, ReadOnlyOption, type Config } from '../src/core.js';
import { validateConfig } from '../src/config.js';

function base(over: Partial<Config> = {}): Config {
  return { id: 1, electionTick: 10, heartbeatTick: 1, storage: new MemoryStorage(), ...over };
}

describe('config validation', () => {
  const bad: Array<[string, Partial<Config>, string]> = [
    ['id 0', { id: 0 }, 'id'],
    ['negative id', { id: -3 }, 'id'],
    ['fractional id', { id: 1.5 }, 'id'],
    ['heartbeat tick 0', { heartbeatTick: 0 }, 'heartbeatTick'],
    ['election tick equal to heartbeat tick', { electionTick: 3, heartbeatTick: 3 }, 'electionTick'],
    ['election tick below heartbeat tick', { electionTick: 2, heartbeatTick: 3 }, 'electionTick'],
    ['lease reads without CheckQuorum', { readOnlyOption: ReadOnlyOption.ReadOnlyLeaseBased }, 'readOnlyOption'],
    ['inflight bytes below max message size', { maxSizePerMsg: 1024, maxInflightBytes: 512 }, 'maxInflightBytes'],
    ['max inflight messages 0', { maxInflightMsgs: 0 }, 'maxInflightMsgs'],
    ['negative max message size', { maxSizePerMsg: -1 }, 'maxSizePerMsg'],
    ['negative applied', { applied: -1 }, 'applied'],
  ];
  for (const [name, over, field] of bad) {
    test(`refuses ${name} with a ConfigError naming ${field}`, () => {
      let caught: unknown;
      try {
        new RawNode(base(over));
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).field).toBe(field);
      expect((caught as ConfigError).code).toBe('ERR_CONFIG');
    });
  }

  test('refuses a missing storage', () => {
    expect(() => validateConfig({ id: 1, electionTick: 10, heartbeatTick: 1 } as unknown as Config)).toThrow(ConfigError);
  });

  test('fills etcd defaults: zero limits mean no limit, committed size follows message size', () => {
    const c = validateConfig(base({ maxSizePerMsg: 4096, maxUncommittedEntriesSize: 0 }));
    expect(c.maxUncommittedEntriesSize).toBe(Infinity);
    expect(c.maxCommittedSizePerReady).toBe(4096);
    expect(c.maxInflightBytes).toBe(Infinity);
    expect(c.maxInflightMsgs).toBe(256);
    expect(c.preVote).toBe(false);
    expect(c.checkQuorum).toBe(false);
  });

  test('maxSizePerMsg 0 (one entry per message) still applies committed entries, one at a time', () => {
    const storage = new MemoryStorage();
    const rn = new RawNode(base({ storage, maxSizePerMsg: 0 }));
    rn.bootstrap([{ id: 1 }]);
    const applied: number[] = [];
    const drive = (): void => {
      while (rn.hasReady()) {
        const rd = rn.ready();
        storage.append(rd.entries);
        if (rd.hardState.term !== 0) storage.setHardState(rd.hardState);
        for (const e of rd.committedEntries) applied.push(e.index);
        rn.advance();
      }
    };
    drive();
    rn.campaign();
    drive();
    rn.propose(new Uint8Array([7]));
    rn.propose(new Uint8Array([8]));
    drive();
    expect(applied).toEqual([1, 2, 3, 4]);
  });

  test('accepts lease reads with CheckQuorum', () => {
    expect(() => new RawNode(base({ checkQuorum: true, readOnlyOption: ReadOnlyOption.ReadOnlyLeaseBased }))).not.toThrow();
  });
});
