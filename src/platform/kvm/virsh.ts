import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenemError, notFound } from '../../errors.js';
import { runHelper } from '../../host/helper-process.js';

/**
 * libvirt's own client, run with argv arrays against one URI. Domains and pools are always named by UUID; a name
 * or value openem passes follows `--` or the option it belongs to, so virsh takes it as data, never as an option.
 * virsh parses what follows its own options as a command string (quotes, `;`) when that is one argument: `run`
 * takes a lone argument only when it is a bare command word (`capabilities`, `hostname`). XML documents go in
 * through private files (mode 0600), never on a command line: openem's domain metadata too, by a `define` of the
 * domain's definition (`metadata --set` would take it only as an argument).
 */
export class Virsh {
  constructor(readonly uri: string) {}

  async run(args: readonly string[], options: { timeoutMs?: number } = {}): Promise<string> {
    if (args.length === 0 || (args.length === 1 && !/^[a-z-]+$/.test(args[0]))) throw new OpenemError('INTERNAL', 'virsh would parse a lone argument as a command string');
    try {
      const r = await runHelper('virsh', ['-q', '-c', this.uri, ...args], { debianPackage: 'libvirt-clients', timeoutMs: options.timeoutMs ?? 60_000 });
      return r.stdout;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (/failed to get domain|Domain not found|no domain with matching/i.test(message)) throw notFound(`libvirt has no such domain: ${lastLine(message)}`);
      if (/failed to connect to the hypervisor|Failed to connect socket|Cannot recv data/i.test(message)) {
        throw new OpenemError('UNAVAILABLE', `libvirt at ${this.uri} is unreachable: ${lastLine(message)}`, { cause: e });
      }
      throw e;
    }
  }

  /** Runs `virsh <command> <file> ...rest` with `xml` in a private temporary file. */
  async withXmlFile(command: string, xml: string, before: readonly string[] = [], after: readonly string[] = []): Promise<string> {
    return this.withXmlFiles(command, before, [xml], after);
  }

  /** Runs `virsh <command> ...before <file>... ...after`, each of `xmls` in a private temporary file. */
  async withXmlFiles(command: string, before: readonly string[], xmls: readonly string[], after: readonly string[] = []): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'openem-virsh-'));
    try {
      const files = xmls.map((_, i) => join(dir, `doc${i}.xml`));
      for (const [i, xml] of xmls.entries()) await writeFile(files[i], xml, { mode: 0o600 });
      return await this.run([command, ...before, ...files, ...after]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Non-empty output lines, trimmed. */
  async lines(args: readonly string[]): Promise<string[]> {
    return (await this.run(args)).split('\n').map((l) => l.trim()).filter(Boolean);
  }
}

function lastLine(message: string): string {
  return message.trim().split('\n').filter(Boolean).pop() ?? message;
}
