// Worker processes for the benchmarks that need them apart from this one: GPU workers that do not
// share this process's event loop, and the real `imagent worker` processes whose memory is measured.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';

const READY_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 15_000;

export interface WorkerProcess {
  name: string;
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `node <args>` and resolves once its output matches `ready` (workers log a line when they
 * poll). Output goes to `logFile`; a process that exits first fails with the file's name.
 */
export async function spawnWorker(options: {
  name: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  logFile: string;
  ready: RegExp;
  ipc?: boolean;
}): Promise<WorkerProcess> {
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child = spawn(process.execPath, options.args, {
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe', ...(options.ipc ? (['ipc'] as const) : [])],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${options.name} did not start polling within ${READY_TIMEOUT_MS / 1000} s; see ${options.logFile}.`)), READY_TIMEOUT_MS);
    const watch = (chunk: Buffer): void => {
      log.write(chunk);
      seen = (seen + chunk.toString('utf8')).slice(-4096);
      if (options.ready.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', watch);
    child.stderr?.on('data', watch);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${options.name} exited with code ${code} before it was ready; see ${options.logFile}.`));
    });
  });
  return {
    name: options.name,
    pid: child.pid ?? -1,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
      log.end();
    },
  };
}

export interface MemorySample {
  /** Resident set size now, and its peak so far (the kernel's high-water mark), in MiB. */
  rssMiB: number;
  peakMiB: number;
}

/** Reads /proc/<pid>/status; null once the process is gone. */
export function memoryOf(pid: number): MemorySample | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMiB: kb('VmRSS') / 1024, peakMiB: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU seconds a process has used so far (user + system), or NaN once it is gone. */
export function cpuSecondsOf(pid: number): number {
  try {
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis are fixed.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** The machine's busy and total CPU seconds so far, over all CPUs (every process, ours or not). */
export function machineCpuSeconds(): { busy: number; total: number } {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = values.map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy / TICKS_PER_SECOND, total: (busy + idle + iowait) / TICKS_PER_SECOND };
}
