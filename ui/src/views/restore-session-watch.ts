import { get, link, waitForTask, type Link, type Task } from '../api/client.js';

export interface RestoreSession {
  Name: string;
  UID: string;
  Href: string;
  VmDisplayName: string;
  JobType: string;
  CreationTimeUTC: string;
  EndTimeUTC?: string;
  State: string;
  Result: string;
  Progress: number;
  FailureMessage?: string;
  Links?: { Rel: string; Href: string; Type?: string }[];
}

/** Follows a restore's task to its restore session, then the session until it has stopped; `onUpdate` sees each state. */
export async function watchRestore(task: Task, onUpdate: (s: RestoreSession) => void, timeoutMs = 300_000): Promise<RestoreSession | undefined> {
  const deadline = Date.now() + timeoutMs;
  const sessionLink = await sessionOfTask(task, timeoutMs);
  if (!sessionLink) return undefined;
  for (;;) {
    const s = await get<RestoreSession>(sessionLink.Href);
    onUpdate(s);
    if (s.State === 'Stopped' || Date.now() > deadline) return s;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The restore session a task links once its work is queued; a task that fails first throws its reason. */
export async function sessionOfTask(task: Task, timeoutMs = 60_000): Promise<Link | undefined> {
  const deadline = Date.now() + timeoutMs;
  let t = task;
  let sessionLink = link(t, 'Related', 'RestoreSession');
  while (!sessionLink) {
    if (t.State === 'Finished') {
      await waitForTask(t); // throws with the task's failure reason
      return undefined;
    }
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 300));
    t = await get<Task>(t.Href!);
    sessionLink = link(t, 'Related', 'RestoreSession');
  }
  return sessionLink;
}
