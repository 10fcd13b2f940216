import { join } from 'node:path';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import type { GuestOsKind, KernelBoot, PresentedPlatform, RestoreIncompleteMark } from '../platform.js';

/** The namespace of openem's element in a domain's `<metadata>` (libvirt keeps one element per namespace). */
export const OPENEM_NS = 'https://openem.dev/xmlns/libvirt-domain/1';

/** What openem keeps about a domain that libvirt has no field for. */
export interface OpenemDomainMetadata {
  platform?: PresentedPlatform;
  guestOs?: GuestOsKind;
  createdAt?: string;
  restoreIncomplete?: RestoreIncompleteMark;
}

export interface DomainDisk {
  /** openem's disk name: the user alias (`ua-<name>`) when it has one, else the target device (`vda`). */
  name: string;
  target: string;
  /** The image file (file-backed disks only). */
  file?: string;
  format: string;
}

export interface DomainInfo {
  uuid: string;
  name: string;
  vcpus: number;
  memoryKiB: number;
  disks: DomainDisk[];
  metadata: OpenemDomainMetadata;
  /** `<os><kernel>…`: the domain boots a kernel file of the host. */
  boot?: KernelBoot;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: false,
  isArray: (name) => name === 'disk' || name === 'alias',
  parseTagValue: false,
  parseAttributeValue: false,
});

type Node = Record<string, unknown>;

function text(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'object') return (v as Node)['#text'] as string | undefined;
  return String(v);
}

const UNIT_KIB: Record<string, number> = { b: 1 / 1024, bytes: 1 / 1024, k: 1, kib: 1, m: 1024, mib: 1024, g: 1024 * 1024, gib: 1024 * 1024 };

/** Reads what openem needs from `virsh dumpxml`. */
export function parseDomainXml(xml: string): DomainInfo {
  const domain = (parser.parse(xml) as Node).domain as Node;
  const memory = domain.memory as Node | string;
  const unit = (typeof memory === 'object' ? (memory['@unit'] as string | undefined) : undefined)?.toLowerCase() ?? 'kib';
  const devices = (domain.devices ?? {}) as Node;
  const disks: DomainDisk[] = [];
  for (const d of (devices.disk ?? []) as Node[]) {
    if ((d['@device'] ?? 'disk') !== 'disk') continue;
    const target = (d.target as Node | undefined)?.['@dev'] as string | undefined;
    if (!target) continue;
    const alias = ((d.alias ?? []) as Node[]).map((a) => a['@name'] as string).find((n) => n?.startsWith('ua-'));
    const source = d.source as Node | undefined;
    disks.push({
      name: alias ? alias.slice(3) : target,
      target,
      ...(d['@type'] === 'file' && source?.['@file'] ? { file: source['@file'] as string } : {}),
      format: ((d.driver as Node | undefined)?.['@type'] as string | undefined) ?? 'raw',
    });
  }
  return {
    uuid: text(domain.uuid) ?? '',
    name: text(domain.name) ?? '',
    vcpus: Number(text(domain.vcpu) ?? 1),
    memoryKiB: Math.round(Number(text(memory)) * (UNIT_KIB[unit] ?? 1)),
    disks,
    metadata: parseMetadata(domain.metadata as Node | undefined),
    ...kernelBootOf(domain.os as Node | undefined),
  };
}

function kernelBootOf(os: Node | undefined): { boot?: KernelBoot } {
  const kernel = text(os?.kernel);
  if (!kernel) return {};
  const initrd = text(os?.initrd);
  const cmdline = text(os?.cmdline);
  return { boot: { kernel, ...(initrd ? { initrd } : {}), ...(cmdline ? { cmdline } : {}) } };
}

function parseMetadata(metadata: Node | undefined): OpenemDomainMetadata {
  if (!metadata) return {};
  for (const [key, value] of Object.entries(metadata)) {
    if (!key.endsWith(':vm') && key !== 'vm') continue;
    const node = value as Node;
    if (node['@xmlns'] !== OPENEM_NS && !Object.entries(node).some(([k, v]) => k.startsWith('@xmlns:') && v === OPENEM_NS)) continue;
    const json = text(node);
    if (json) return JSON.parse(json) as OpenemDomainMetadata;
  }
  return {};
}

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@', format: false, suppressEmptyNode: true });

/** openem's element of a domain's `<metadata>`, in openem's namespace. */
function metadataElement(metadata: OpenemDomainMetadata): string {
  return builder.build({ 'openem:vm': { '@xmlns:openem': OPENEM_NS, '#text': JSON.stringify(metadata) } });
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** openem's element as libvirt writes it back: any prefix bound to openem's namespace; its text holds no `<`. */
const OPENEM_ELEMENT = new RegExp(`<([A-Za-z_][\\w.-]*):vm xmlns:\\1=(["'])${escapeRegExp(OPENEM_NS)}\\2\\s*(?:/>|>[^<]*</\\1:vm>)`, 'g');

/**
 * A domain definition (`virsh dumpxml --inactive --security-info`) with openem's metadata element put in place of
 * the one it had, or added to its `<metadata>` (made when it has none), everything else byte for byte: what
 * `virsh define` then takes from a file, as `virsh edit` does.
 */
export function withOpenemMetadata(domainXml: string, metadata: OpenemDomainMetadata): string {
  const element = metadataElement(metadata);
  const without = domainXml.replace(OPENEM_ELEMENT, '');
  if (/<metadata\s*\/>/.test(without)) return without.replace(/<metadata\s*\/>/, `<metadata>${element}</metadata>`);
  // The domain's own </metadata> is the last one: another application's element may hold one of its own.
  const close = without.lastIndexOf('</metadata>');
  if (close >= 0) return `${without.slice(0, close)}${element}${without.slice(close)}`;
  const end = without.lastIndexOf('</domain>');
  if (end < 0) throw new Error('not a domain definition: no </domain>');
  return `${without.slice(0, end)}<metadata>${element}</metadata>${without.slice(end)}`;
}

export interface NewDomain {
  uuid: string;
  name: string;
  vcpus: number;
  memoryMiB: number;
  /** `kvm` when /dev/kvm is usable, else `qemu` (TCG). */
  type: 'kvm' | 'qemu';
  disks: { name: string; file: string; target: string }[];
  metadata: OpenemDomainMetadata;
  boot?: KernelBoot;
  /** The file the serial console (ttyS0) is written to; a pty when none. */
  serialLog?: string;
}

/** The domain XML openem defines for a VM it creates: virtio qcow2 disks named by user aliases, a guest agent channel, no network. */
export function newDomainXml(d: NewDomain): string {
  return builder.build({
    domain: {
      '@type': d.type,
      name: d.name,
      uuid: d.uuid,
      metadata: { 'openem:vm': { '@xmlns:openem': OPENEM_NS, '#text': JSON.stringify(d.metadata) } },
      memory: { '@unit': 'MiB', '#text': String(d.memoryMiB) },
      vcpu: String(d.vcpus),
      os: {
        type: { '@arch': 'x86_64', '#text': 'hvm' },
        ...(d.boot ? { kernel: d.boot.kernel, ...(d.boot.initrd ? { initrd: d.boot.initrd } : {}), ...(d.boot.cmdline ? { cmdline: d.boot.cmdline } : {}) } : {}),
      },
      // ACPI, so that a graceful shutdown (virsh shutdown: the power button) reaches the guest.
      features: { acpi: '' },
      devices: {
        disk: d.disks.map((disk) => ({
          '@type': 'file',
          '@device': 'disk',
          driver: { '@name': 'qemu', '@type': 'qcow2' },
          source: { '@file': disk.file },
          target: { '@dev': disk.target, '@bus': 'virtio' },
          alias: { '@name': `ua-${disk.name}` },
        })),
        serial: d.serialLog ? { '@type': 'file', source: { '@path': d.serialLog, '@append': 'on' }, target: { '@port': '0' } } : { '@type': 'pty' },
        // The QEMU guest agent's port, so a guest that runs the agent is frozen for live backups (guest-freeze.ts).
        // libvirt binds its socket under its own folders; the private daemon keeps those short (private-libvirtd.ts).
        channel: { '@type': 'unix', target: { '@type': 'virtio', '@name': 'org.qemu.guest_agent.0' } },
      },
    },
  });
}

/** The serial console file of domain `uuid` in the platform's console folder. */
export function serialLogPath(consoleLogDir: string, uuid: string): string {
  return join(consoleLogDir, `${uuid}.log`);
}

/** Target devices vda, vdb, … for disk `index`. */
export function virtioTarget(index: number): string {
  let s = '';
  let n = index;
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return `vd${s}`;
}

/** The pool's name and target folder from `virsh pool-dumpxml`. */
export function parsePoolXml(xml: string): { uuid: string; name: string; path?: string; type: string } {
  const pool = (parser.parse(xml) as Node).pool as Node;
  return { uuid: text(pool.uuid) ?? '', name: text(pool.name) ?? '', path: text((pool.target as Node | undefined)?.path), type: (pool['@type'] as string) ?? '' };
}

/** The disks (targets) a libvirt checkpoint keeps a bitmap of, from `virsh checkpoint-dumpxml`. */
export function checkpointTargets(xml: string): string[] {
  const checkpoint = (parser.parse(xml) as Node).domaincheckpoint as Node | undefined;
  const disks = ((checkpoint?.disks as Node | undefined)?.disk ?? []) as Node[];
  return disks.filter((d) => d['@checkpoint'] === 'bitmap').map((d) => d['@name'] as string);
}

/** The QEMU guest agent's channel of a domain (`org.qemu.guest_agent.0`), from its live XML: undefined when it has none. */
export function guestAgentChannel(xml: string): { state?: string } | undefined {
  const domain = (parser.parse(xml) as Node).domain as Node | undefined;
  const raw = ((domain?.devices ?? {}) as Node).channel;
  const channels = (Array.isArray(raw) ? raw : raw ? [raw] : []) as Node[];
  const agent = channels.map((c) => c.target as Node | undefined).find((t) => t?.['@name'] === 'org.qemu.guest_agent.0');
  return agent ? { ...(agent['@state'] ? { state: agent['@state'] as string } : {}) } : undefined;
}

/** Every block device's target (`vda`, `sdb`; CD-ROMs too), in the order of the XML: what `virsh domblklist` lists. */
export function blockTargets(xml: string): string[] {
  const domain = (parser.parse(xml) as Node).domain as Node | undefined;
  return (((domain?.devices ?? {}) as Node).disk as Node[] | undefined ?? []).map((d) => (d.target as Node | undefined)?.['@dev'] as string | undefined).filter((t): t is string => !!t);
}

/** Whether `virsh dumpxml` (live, not --inactive) describes an active domain: only an active one has an id. */
export function isActiveDomainXml(xml: string): boolean {
  const domain = (parser.parse(xml) as Node).domain as Node | undefined;
  return domain?.['@id'] !== undefined && domain['@id'] !== '-1';
}
