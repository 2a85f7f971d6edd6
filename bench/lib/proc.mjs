// Reading another process's CPU time and memory from /proc (Linux). utime + stime cover every
// thread of the process, the same figure as the process's own `process.cpuUsage()`.
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';

let clockTicks = 100;
try {
  clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // getconf missing: 100 Hz is the Linux default
}

/** CPU time (user + system) used so far by `pid`, in microseconds; null when unreadable. */
export function cpuMicros(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / clockTicks;
  } catch {
    return null;
  }
}

/** Resident set size of `pid` in KiB; null when unreadable. */
export function rssKiB(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Sum of cpuMicros over several pids (null if any is unreadable). */
export function cpuMicrosAll(pids) {
  let total = 0;
  for (const pid of pids) {
    const us = cpuMicros(pid);
    if (us === null) return null;
    total += us;
  }
  return total;
}

/** CPU time (us) spent by the whole machine, all cores, outside idle and iowait. */
export function machineBusyMicros() {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = v.reduce((a, b) => a + b, 0) - v[3] - v[4];
    return (busy * 1e6) / clockTicks;
  } catch {
    return null;
  }
}
