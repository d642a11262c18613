/**
 * Starting `instance-main.ts` as a child process, and stopping or crashing it. The child runs
 * Node itself with tsx's loader (not the tsx command, which would put a second process between
 * us and the instance, and a SIGKILL would then miss the instance).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** A running instance process. */
export interface InstanceProcess {
  readonly address: string;
  readonly key: string;
  /** Its lease id, as etcd3 prints it. */
  readonly lease: string;
  /** SIGTERM: the instance deregisters, drains and exits. Resolves once it exited. */
  stop(): Promise<void>;
  /** SIGKILL: the instance dies with its key still registered. Resolves once it exited. */
  crash(): Promise<void>;
}

const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const INSTANCE_MAIN = fileURLToPath(new URL('./instance-main.ts', import.meta.url));

/**
 * Starts an instance of `service` registering at the cluster `endpoints` with a lease of
 * `ttlSeconds`; resolves once it is registered. Its log lines (stderr) go to `log`.
 */
export function spawnInstance(
  endpoints: readonly string[],
  service: string,
  ttlSeconds: number,
  log: (line: string) => void,
  readyTimeoutMs = 60_000,
): Promise<InstanceProcess> {
  const child = spawn(
    process.execPath,
    ['--import', TSX_LOADER, INSTANCE_MAIN, `--endpoints=${endpoints.join(',')}`, `--service=${service}`, `--ttl=${ttlSeconds}`],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    for (const line of text.split('\n')) if (line.trim() !== '') log(line);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`instance not registered within ${readyTimeoutMs} ms`));
    }, readyTimeoutMs);
    let stdout = '';
    let registered = false;
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => {
      if (registered) return;
      stdout += text;
      const newline = stdout.indexOf('\n');
      if (newline < 0) return;
      registered = true;
      clearTimeout(timer);
      child.off('exit', onEarlyExit);
      const ready = JSON.parse(stdout.slice(0, newline)) as { address: string; key: string; lease: string };
      resolve({ ...ready, stop: () => end('SIGTERM'), crash: () => end('SIGKILL') });
    });
    const onEarlyExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`instance exited (${code}) before it registered`));
    };
    child.once('exit', onEarlyExit);
  });
}

