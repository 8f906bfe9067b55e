// Process identity from Linux's /proc. A pid alone is not an identity: the kernel reuses pids, so every
// process Pave records is kept as (pid, start time) and only treated as ours while both still match.
// Imported by the supervisor bundle: node: built-ins only.
import { readFileSync, readdirSync } from 'node:fs';

/** A process as Pave records it: its pid and its start time (clock ticks since boot, /proc/<pid>/stat field 22). */
export interface ProcessIdentity {
  pid: number;
  startTime: number;
}

interface ProcStat {
  /** One-letter state: R, S, D, Z (zombie), T… */
  state: string;
  /** Process group id. */
  pgrp: number;
  startTime: number;
}

/** Parses /proc/<pid>/stat; null if the process does not exist. */
function readProcStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Field 2 (the command name) is in parentheses and may itself hold spaces or parentheses: split after the last one.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), fields[2] field 5 (pgrp), fields[19] field 22 (starttime).
  const [state, , pgrp] = fields;
  const startTime = Number(fields[19]);
  if (state === undefined || pgrp === undefined || !Number.isFinite(startTime)) return null;
  return { state, pgrp: Number(pgrp), startTime };
}

/** The start time of a live process, or null if it is gone (a zombie counts as gone: it runs nothing). */
export function processStartTime(pid: number): number | null {
  const stat = readProcStat(pid);
  return stat && stat.state !== 'Z' ? stat.startTime : null;
}

/** The identity of a live process, or null if it is gone. */
export function identify(pid: number): ProcessIdentity | null {
  const startTime = processStartTime(pid);
  return startTime === null ? null : { pid, startTime };
}

/** Whether `process` is still running, the same process that was recorded (not a stranger reusing its pid). */
export function isRunning(process: ProcessIdentity | null | undefined): boolean {
  return !!process && processStartTime(process.pid) === process.startTime;
}

/** Live (non-zombie) processes in process group `pgid`, by pid. */
export function liveGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readProcStat(pid);
    if (stat && stat.pgrp === pgid && stat.state !== 'Z') members.push(pid);
  }
  return members;
}

/** Sends `signal` to process group `pgid`; false if the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal` to process `pid`; false if it no longer exists. */
export function signalProcess(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}
