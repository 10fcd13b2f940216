import { randomUUID } from 'node:crypto';
import type { BaseContext } from '../../context.js';
import { badRequest, conflict, notFound } from '../../errors.js';

/** A backup job: a named list of VMs backed up together (em-api.md §4 "/jobs"). */
export interface JobRecord {
  id: string;
  name: string;
  vmNames: string[];
  createdAt: number;
}

function toJob(r: { id: string; name: string; vm_names: string; created_at: number }): JobRecord {
  return { id: r.id, name: r.name, vmNames: JSON.parse(r.vm_names) as string[], createdAt: Number(r.created_at) };
}

export async function createJob(ctx: BaseContext, name: string, vmNames: string[]): Promise<JobRecord> {
  if (!name || name.length > 128 || /[\0\n]/.test(name)) throw badRequest('a job name must be 1-128 characters without newlines');
  if (vmNames.length === 0) throw badRequest('a job needs at least one VM');
  if (await findJob(ctx, name)) throw conflict(`job ${name} already exists`);
  const row = { id: randomUUID(), name, vm_names: JSON.stringify(vmNames), created_at: ctx.clock.now() };
  await ctx.store.db.insertInto('jobs').values(row).execute();
  return toJob(row);
}

/** By id or by name. */
export async function findJob(ctx: BaseContext, idOrName: string): Promise<JobRecord | undefined> {
  const r = await ctx.store.db
    .selectFrom('jobs')
    .selectAll()
    .where((eb) => eb.or([eb('id', '=', idOrName.toLowerCase()), eb('name', '=', idOrName)]))
    .executeTakeFirst();
  return r ? toJob(r) : undefined;
}

export async function getJob(ctx: BaseContext, idOrName: string): Promise<JobRecord> {
  const j = await findJob(ctx, idOrName);
  if (!j) throw notFound(`Job ${idOrName} was not found`);
  return j;
}

export async function listJobs(ctx: BaseContext): Promise<JobRecord[]> {
  return (await ctx.store.db.selectFrom('jobs').selectAll().orderBy('name').execute()).map(toJob);
}

/** `openem backup VM` without a job uses one job per VM, named after it. */
export async function defaultJobFor(ctx: BaseContext, vmName: string): Promise<JobRecord> {
  const name = `Backup ${vmName}`;
  const existing = await findJob(ctx, name);
  if (existing) return existing;
  try {
    return await createJob(ctx, name, [vmName]);
  } catch (e) {
    const again = await findJob(ctx, name);
    if (again) return again;
    throw e;
  }
}
