import { describe, expect, it } from 'vitest';
import { npmFailure } from '../install.js';

describe('npmFailure', () => {
  it('names the package whose native build failed and its first compiler error', () => {
    const output = [
      'npm error gyp info it worked if it ends with ok',
      "npm error ../../nan/nan_callbacks.h:55:23: error: ‘AccessorSignature’ is not a member of ‘v8’",
      "npm error ../../nan/nan_maybe_43_inl.h:112:15: error: ‘class v8::Object’ has no member named ‘ForceSet’",
      'npm error gyp ERR! cwd /work/main/bench/peers/.deps/skiff/node_modules/leveldown',
      'npm error gyp ERR! $npm_package_version 1.9.0',
    ].join('\n');
    expect(npmFailure(output)).toBe(
      "native build of leveldown@1.9.0 failed (../../nan/nan_callbacks.h:55:23: error: ‘AccessorSignature’ is not a member of ‘v8’)",
    );
  });

  it('falls back to the last lines when no build failed', () => {
    expect(npmFailure('a\nb\nnpm error 404 Not Found - GET https://registry/x\n')).toBe('a | b | npm error 404 Not Found - GET https://registry/x');
  });
});
