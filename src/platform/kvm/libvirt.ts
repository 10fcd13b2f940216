import { access, constants } from 'node:fs/promises';
import { DEFAULT_CALL_TIMEOUT_MS, LibvirtRpc } from './libvirt-rpc.js';
import { Virsh } from './virsh.js';
import { XdrReader, XdrWriter } from './xdr.js';

/** Procedure numbers of remote_protocol.x's enum remote_procedure. */
const PROC = {
  DOMAIN_CREATE_WITH_FLAGS: 196,
  DOMAIN_DESTROY: 12,
  DOMAIN_GET_XML_DESC: 14,
  DOMAIN_LOOKUP_BY_UUID: 24,
  DOMAIN_SHUTDOWN: 33,
  DOMAIN_IS_ACTIVE: 150,
  DOMAIN_ABORT_JOB: 164,
  STORAGE_POOL_GET_XML_DESC: 88,
  CONNECT_LIST_ALL_DOMAINS: 273,
  CONNECT_LIST_ALL_STORAGE_POOLS: 281,
  DOMAIN_FSFREEZE: 335,
  DOMAIN_FSTHAW: 336,
  DOMAIN_DEFINE_XML_FLAGS: 350,
  DOMAIN_CHECKPOINT_GET_XML_DESC: 412,
  DOMAIN_LIST_ALL_CHECKPOINTS: 413,
  DOMAIN_CHECKPOINT_DELETE: 417,
  DOMAIN_BACKUP_BEGIN: 421,
} as const;
/** libvirt-domain.h / libvirt-storage.h flags. */
const XML_SECURE = 1;
const XML_INACTIVE = 2;
const LIST_DOMAINS_RUNNING = 16;
const LIST_DOMAINS_PAUSED = 32;
const LIST_POOLS_ACTIVE = 2;

/** remote_nonnull_domain: what a domain call names its domain by (libvirt finds it by the UUID). */
interface DomainRef {
  name: string;
  uuid: Buffer;
  id: number;
}

function readDomain(r: XdrReader): DomainRef {
  return { name: r.string(), uuid: Buffer.from(r.fixed(16)), id: r.i32() };
}

function writeDomain(w: XdrWriter, d: DomainRef): XdrWriter {
  return w.string(d.name).fixed(d.uuid).i32(d.id);
}

function uuidString(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * The daemon socket and driver URI that a local libvirt URI reaches, as libvirt's remote driver finds them:
 * `?socket=` when the URI names one, else `qemu:///system`'s socket (the modular daemon's, or libvirtd's).
 * Undefined for a URI with a host or a transport (`qemu+ssh://…`): those are reached through virsh.
 */
export async function localSocketOf(uri: string): Promise<{ socket: string; name: string } | undefined> {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return undefined;
  }
  if ((u.protocol !== 'qemu:' && u.protocol !== 'qemu+unix:') || u.host !== '') return undefined;
  const name = `qemu://${u.pathname}`;
  const socket = u.searchParams.get('socket');
  if (socket) return { socket, name };
  if (u.pathname !== '/system' || [...u.searchParams.keys()].length > 0) return undefined;
  for (const s of ['/run/libvirt/virtqemud-sock', '/run/libvirt/libvirt-sock']) {
    if (await access(s, constants.W_OK).then(() => true, () => false)) return { socket: s, name };
  }
  return undefined;
}

/**
 * The libvirt calls openem's kvm platform makes on every backup, restore and listing, over the daemon's RPC
 * socket (libvirt-rpc.ts) when the URI is a local one: no process is started per call, and no document or name
 * passes through a command line. A URI with a host or a transport, or a daemon whose socket does not take openem's
 * connection, is asked through `virsh` instead, with the same answers. Domains are named by UUID.
 */
export class Libvirt {
  private connection: Promise<LibvirtRpc> | undefined;
  /**
   * Each domain's remote_nonnull_domain as looked up once: the daemon finds a domain by the UUID alone (remote.c's
   * get_nonnull_domain, then the qemu driver's lookup by UUID), so a call needs no lookup of its own. An entry goes
   * when a call naming it fails, so a domain gone or redefined is looked up anew.
   */
  private readonly domainRefs = new Map<string, Promise<DomainRef>>();

  private constructor(
    readonly virsh: Virsh,
    private readonly local: { socket: string; name: string } | undefined,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Connects once to a local URI's socket; virsh it is when that does not work. `timeoutMs`: how long a call
   * (and the connection's opening) waits for libvirt's answer unless the call says otherwise; a call not answered
   * in time is UNAVAILABLE and the next one opens a new connection.
   */
  static async open(uri: string, options: { timeoutMs?: number } = {}): Promise<Libvirt> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    const virsh = new Virsh(uri);
    const local = await localSocketOf(uri);
    if (!local) return new Libvirt(virsh, undefined, timeoutMs);
    const rpc = LibvirtRpc.open(local.socket, local.name, uri, { timeoutMs });
    if (!(await rpc.then(() => true, () => false))) return new Libvirt(virsh, undefined, timeoutMs);
    const libvirt = new Libvirt(virsh, local, timeoutMs);
    libvirt.connection = rpc;
    return libvirt;
  }

  get uri(): string {
    return this.virsh.uri;
  }

  /** Whether calls go over the RPC socket (else through virsh). */
  get overRpc(): boolean {
    return this.local !== undefined;
  }

  /** Closes the RPC connection (a later call opens a new one). */
  async close(): Promise<void> {
    const c = this.connection;
    this.connection = undefined;
    if (c) await (await c.catch(() => undefined))?.close();
  }

  private async rpc(): Promise<LibvirtRpc> {
    const asked = this.connection;
    const current = asked && (await asked.catch(() => undefined));
    if (current?.isOpen) return current;
    // Another call opened a new connection meanwhile: that one, not a second.
    if (this.connection !== asked) return this.rpc();
    const next = LibvirtRpc.open(this.local!.socket, this.local!.name, this.uri, { timeoutMs: this.timeoutMs });
    this.connection = next;
    return next;
  }

  private async call(proc: number, args: XdrWriter, options: { timeoutMs?: number } = {}): Promise<XdrReader> {
    return new XdrReader(await (await this.rpc()).call(proc, args.bytes(), { timeoutMs: options.timeoutMs ?? this.timeoutMs }));
  }

  private domain(uuid: string): Promise<DomainRef> {
    const key = uuid.toLowerCase();
    let ref = this.domainRefs.get(key);
    if (!ref) {
      const bytes = Buffer.from(uuid.replace(/-/g, ''), 'hex');
      ref = this.call(PROC.DOMAIN_LOOKUP_BY_UUID, new XdrWriter().fixed(bytes)).then(readDomain);
      this.domainRefs.set(key, ref);
      ref.catch(() => this.forgetDomain(key, ref!));
    }
    return ref;
  }

  private forgetDomain(key: string, ref: Promise<DomainRef>): void {
    if (this.domainRefs.get(key) === ref) this.domainRefs.delete(key);
  }

  /** Calls `proc` with the arguments `args` writes after domain `uuid`; the domain is looked up anew after a failure. */
  private callOnDomain(proc: number, uuid: string, args: (w: XdrWriter) => XdrWriter = (w) => w, options: { timeoutMs?: number } = {}): Promise<XdrReader> {
    return this.callNaming(proc, uuid, (d) => args(writeDomain(new XdrWriter(), d)), options);
  }

  /** Calls `proc` with the arguments `args` writes for domain `uuid`'s reference. */
  private async callNaming(proc: number, uuid: string, args: (d: DomainRef) => XdrWriter, options: { timeoutMs?: number } = {}): Promise<XdrReader> {
    const ref = this.domain(uuid);
    const w = args(await ref);
    try {
      return await this.call(proc, w, options);
    } catch (e) {
      this.forgetDomain(uuid.toLowerCase(), ref);
      throw e;
    }
  }

  /** A call whose only argument is the domain (and, when `flags` is given, a flags word). */
  private onDomain(proc: number, uuid: string, flags?: number, options: { timeoutMs?: number } = {}): Promise<XdrReader> {
    return this.callOnDomain(proc, uuid, (w) => (flags === undefined ? w : w.u32(flags)), options);
  }

  /** `virsh dumpxml [--inactive] [--security-info]`. */
  async domainXml(uuid: string, options: { inactive?: boolean; secure?: boolean } = {}): Promise<string> {
    if (!this.local) return this.virsh.run(['dumpxml', ...(options.inactive ? ['--inactive'] : []), ...(options.secure ? ['--security-info'] : []), uuid]);
    return (await this.onDomain(PROC.DOMAIN_GET_XML_DESC, uuid, (options.inactive ? XML_INACTIVE : 0) | (options.secure ? XML_SECURE : 0))).string();
  }

  /** Every domain's UUID, and whether it runs (running or paused). */
  async domains(): Promise<{ uuid: string; running: boolean }[]> {
    if (!this.local) {
      const [all, running] = await Promise.all([this.virsh.lines(['list', '--all', '--uuid']), this.virsh.lines(['list', '--uuid', '--state-running', '--state-paused'])]);
      return all.map((uuid) => ({ uuid, running: running.includes(uuid) }));
    }
    const list = async (flags: number) => (await this.call(PROC.CONNECT_LIST_ALL_DOMAINS, new XdrWriter().i32(1).u32(flags))).array(readDomain).map((d) => uuidString(d.uuid));
    const [all, running] = await Promise.all([list(0), list(LIST_DOMAINS_RUNNING | LIST_DOMAINS_PAUSED)]);
    return all.map((uuid) => ({ uuid, running: running.includes(uuid) }));
  }

  /** The active storage pools' XML (`virsh pool-list --uuid`, then `pool-dumpxml` of each). */
  async activePoolXmls(): Promise<string[]> {
    if (!this.local) return Promise.all((await this.virsh.lines(['pool-list', '--uuid'])).map((u) => this.virsh.run(['pool-dumpxml', u])));
    const pools = (await this.call(PROC.CONNECT_LIST_ALL_STORAGE_POOLS, new XdrWriter().i32(1).u32(LIST_POOLS_ACTIVE))).array((r) => ({ name: r.string(), uuid: Buffer.from(r.fixed(16)) }));
    return Promise.all(pools.map(async (p) => (await this.call(PROC.STORAGE_POOL_GET_XML_DESC, new XdrWriter().string(p.name).fixed(p.uuid).u32(0))).string()));
  }

  /** `virsh checkpoint-list --name`: the domain's checkpoints, by name. */
  async checkpointNames(uuid: string): Promise<string[]> {
    if (!this.local) return this.virsh.lines(['checkpoint-list', uuid, '--name']);
    const r = await this.callOnDomain(PROC.DOMAIN_LIST_ALL_CHECKPOINTS, uuid, (w) => w.i32(1).u32(0));
    return r.array((x) => {
      const name = x.string();
      readDomain(x);
      return name;
    }).sort();
  }

  /** A call on checkpoint `name` of domain `uuid` (remote_nonnull_domain_checkpoint: the name, then the domain) with flags 0. */
  private onCheckpoint(proc: number, uuid: string, name: string): Promise<XdrReader> {
    return this.callNaming(proc, uuid, (d) => writeDomain(new XdrWriter().string(name), d).u32(0));
  }

  /** `virsh checkpoint-dumpxml`. */
  async checkpointXml(uuid: string, name: string): Promise<string> {
    if (!this.local) return this.virsh.run(['checkpoint-dumpxml', uuid, name]);
    return (await this.onCheckpoint(PROC.DOMAIN_CHECKPOINT_GET_XML_DESC, uuid, name)).string();
  }

  /** `virsh checkpoint-delete`: libvirt merges its bitmap into its parent's. */
  async deleteCheckpoint(uuid: string, name: string): Promise<void> {
    if (!this.local) return void (await this.virsh.run(['checkpoint-delete', uuid, name]));
    await this.onCheckpoint(PROC.DOMAIN_CHECKPOINT_DELETE, uuid, name);
  }

  /** `virsh backup-begin` with the backup (and checkpoint) document. */
  async backupBegin(uuid: string, backupXml: string, checkpointXml: string | undefined): Promise<void> {
    if (!this.local) {
      await this.virsh.withXmlFiles('backup-begin', [uuid], checkpointXml === undefined ? [backupXml] : [backupXml, checkpointXml]);
      return;
    }
    await this.callOnDomain(PROC.DOMAIN_BACKUP_BEGIN, uuid, (w) => w.string(backupXml).optionalString(checkpointXml).u32(0));
  }

  /** `virsh domjobabort`: ends the domain's job (a pull backup's). */
  async abortJob(uuid: string): Promise<void> {
    if (!this.local) return void (await this.virsh.run(['domjobabort', uuid]));
    await this.onDomain(PROC.DOMAIN_ABORT_JOB, uuid);
  }

  /** `virsh domfsfreeze` / `domfsthaw` of every guest filesystem, through the guest agent. */
  async freezeFilesystems(uuid: string, freeze: boolean, timeoutMs: number): Promise<void> {
    if (!this.local) return void (await this.virsh.run([freeze ? 'domfsfreeze' : 'domfsthaw', uuid], { timeoutMs }));
    await this.callOnDomain(freeze ? PROC.DOMAIN_FSFREEZE : PROC.DOMAIN_FSTHAW, uuid, (w) => w.u32(0).u32(0), { timeoutMs });
  }

  /** Whether the domain runs (`virsh domstate` is not `shut off`). */
  async isActive(uuid: string): Promise<boolean> {
    if (!this.local) return (await this.virsh.run(['domstate', uuid])).trim() !== 'shut off';
    return (await this.onDomain(PROC.DOMAIN_IS_ACTIVE, uuid)).i32() === 1;
  }

  /** `virsh start`. */
  async start(uuid: string): Promise<void> {
    if (!this.local) return void (await this.virsh.run(['start', uuid]));
    await this.onDomain(PROC.DOMAIN_CREATE_WITH_FLAGS, uuid, 0);
  }

  /** `virsh shutdown`: asks the guest to power off (ACPI). */
  async shutdown(uuid: string): Promise<void> {
    if (!this.local) return void (await this.virsh.run(['shutdown', uuid]));
    await this.onDomain(PROC.DOMAIN_SHUTDOWN, uuid);
  }

  /** `virsh destroy`: stops the domain at once. */
  async destroy(uuid: string): Promise<void> {
    if (!this.local) return void (await this.virsh.run(['destroy', uuid]));
    await this.onDomain(PROC.DOMAIN_DESTROY, uuid);
  }

  /** `virsh define` of a domain document. */
  async define(xml: string): Promise<void> {
    if (!this.local) return void (await this.virsh.withXmlFile('define', xml));
    await this.call(PROC.DOMAIN_DEFINE_XML_FLAGS, new XdrWriter().string(xml).u32(0));
  }
}
