import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Temporary directories for one test file, all removed by cleanup(). */
export class TempDirs {
  private readonly dirs: string[] = [];

  make(prefix = 'pontoon-sqlite-'): string {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    this.dirs.push(d);
    return d;
  }

  cleanup(): void {
    for (const d of this.dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  }
}
