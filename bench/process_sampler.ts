// CPU and memory per component from /proc (Linux): each component is a process, optionally with
// its whole subtree (job processes, Postgres backends, espeak-ng children). CPU counts the
// subtree's live processes plus what the root has already reaped (cutime/cstime), so a job process
// that ended during a step still counts. Figures only; used by bench:capacity.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on every Linux this runs on

export interface ComponentSpec {
  name: string;
  pid: number;
  /** Count the root process itself (false: only its descendants, e.g. a worker's job processes). */
  self: boolean;
  /** Count its descendants and what it has reaped. */
  tree: boolean;
  /** Not ours: emulated providers and the test phones, reported apart. */
  harness?: boolean;
  /** Only the descendants whose command line contains this (e.g. the framework's job vs inference processes). */
  commandIncludes?: string;
  /** Leave out what the root has reaped (set on all but one of several components sharing a root). */
  noReaped?: boolean;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

interface ProcStat {
  ppid: number;
  ownTicks: number;
  reapedTicks: number;
  rssKb: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+)/.exec(status);
    return {
      ppid: Number(fields[1]),
      ownTicks: Number(fields[11]) + Number(fields[12]),
      reapedTicks: Number(fields[13]) + Number(fields[14]),
      rssKb: rss ? Number(rss[1]) : 0,
    };
  } catch {
    return undefined; // gone between listing and reading
  }
}

function snapshot(): Map<number, ProcStat> {
  const all = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) all.set(Number(entry), stat);
  }
  return all;
}

function descendants(all: Map<number, ProcStat>, root: number): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, stat] of all) (children.get(stat.ppid) ?? children.set(stat.ppid, []).get(stat.ppid)!).push(pid);
  const found: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    found.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

export interface ComponentSample {
  ticks: number;
  rssKb: number;
  processes: number;
}

function sampleComponent(all: Map<number, ProcStat>, spec: ComponentSpec): ComponentSample {
  const root = all.get(spec.pid);
  if (!root) return { ticks: 0, rssKb: 0, processes: 0 };
  let ticks = spec.self ? root.ownTicks : 0;
  let rssKb = spec.self ? root.rssKb : 0;
  let processes = spec.self ? 1 : 0;
  if (spec.tree) {
    if (!spec.noReaped) ticks += root.reapedTicks;
    for (const pid of descendants(all, spec.pid)) {
      if (spec.commandIncludes !== undefined && !commandLine(pid).includes(spec.commandIncludes)) continue;
      const stat = all.get(pid)!;
      ticks += stat.ownTicks + stat.reapedTicks;
      rssKb += stat.rssKb;
      processes += 1;
    }
  }
  return { ticks, rssKb, processes };
}

function machineTicks(): { busy: number; total: number } {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const n = values.map(Number);
  const total = n.reduce((a, b) => a + b, 0);
  const idle = (n[3] ?? 0) + (n[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

export interface ComponentUsage {
  name: string;
  harness: boolean;
  /** Average CPU over the window, % of one core. */
  cpuPercent: number;
  peakRssMb: number;
  peakProcesses: number;
}

export interface UsageWindow {
  components: ComponentUsage[];
  /** Whole machine, % of all cores. */
  machineCpuPercent: number;
  seconds: number;
}

/** Samples every `intervalMs` from start() until stop(); stop() returns the window's averages and peaks. */
export function startSampling(specs: readonly ComponentSpec[], intervalMs = 1000): { stop(): UsageWindow } {
  const startedAt = performance.now();
  const firstAll = snapshot();
  const first = specs.map((spec) => sampleComponent(firstAll, spec));
  const firstMachine = machineTicks();
  const peaks = specs.map(() => ({ rssKb: 0, processes: 0 }));
  let last = first;
  const take = () => {
    const all = snapshot();
    last = specs.map((spec) => sampleComponent(all, spec));
    last.forEach((sample, i) => {
      peaks[i]!.rssKb = Math.max(peaks[i]!.rssKb, sample.rssKb);
      peaks[i]!.processes = Math.max(peaks[i]!.processes, sample.processes);
    });
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      const seconds = (performance.now() - startedAt) / 1000;
      const machine = machineTicks();
      return {
        seconds,
        machineCpuPercent: (100 * (machine.busy - firstMachine.busy)) / Math.max(1, machine.total - firstMachine.total),
        components: specs.map((spec, i) => ({
          name: spec.name,
          harness: spec.harness ?? false,
          // A component whose root restarted would go backwards; never report negative CPU.
          cpuPercent: Math.max(0, (100 * (last[i]!.ticks - first[i]!.ticks)) / TICKS_PER_SECOND / seconds),
          peakRssMb: peaks[i]!.rssKb / 1024,
          peakProcesses: peaks[i]!.processes,
        })),
      };
    },
  };
}
