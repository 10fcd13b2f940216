import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OpenemError } from './errors.js';

/** One platform openem drives (`platforms` in the config file); several may be configured at once. */
export interface PlatformSpec {
  /** Stable id, unique among the platforms. */
  id: string;
  /** Which platform: `local` (VMs in a folder on this machine) or `kvm` (KVM guests managed by libvirt). */
  kind: string;
  /** local: the folder its datastores live in, relative to `datastoresDir`; default `datastoresDir` itself. */
  dataDir?: string;
  /** kvm: the libvirt URI (e.g. `qemu:///system`); default the `libvirtUri` setting. */
  uri?: string;
  /** kvm: how the host and its VMs present to clients: `vsphere` (default), `hyperv` or `vcloud`. */
  presentAs?: string;
  /** kvm: the storage pool new VMs' volumes go to (name or UUID); default the first active pool. */
  pool?: string;
  /** kvm: how long a guest may take to shut down (ACPI) before its domain is destroyed; default 60. */
  shutdownTimeoutSeconds?: number;
  /** kvm: the folder the serial consoles of the domains openem defines are written to, relative to `datastoresDir`; default none (a pty). */
  consoleLogDir?: string;
  /** kvm: `kvm` or `tcg`, how the domains openem defines run; default `kvm` when /dev/kvm opens. */
  accelerator?: string;
}

/** Everything the server and CLI can be told. Precedence: defaults < config file < environment < flags. */
export interface Config {
  dataDir: string;
  listen: string;
  /** 0 turns the listener off. */
  httpsPort: number;
  /** 0 turns the listener off. */
  httpPort: number;
  tlsCert?: string;
  tlsKey?: string;
  adminPassword?: string;
  /** `postgres://…` switches the state store to PostgreSQL; otherwise SQLite in the data directory. */
  databaseUrl?: string;
  /**
   * Where the backup repository lives: a local path, a `file://` URL or `s3://bucket/prefix` (with
   * `OPENEM_S3_ENDPOINT`, `OPENEM_S3_REGION`, `OPENEM_S3_FORCE_PATH_STYLE` and the AWS SDK's credential chain).
   * Default the `repository` folder of the data directory.
   */
  repositoryUrl: string;
  logLevel: string;
  /** Enterprise Manager ends a logon session after 15 idle minutes (em-api.md §1). */
  sessionIdleSeconds: number;
  maxSessionsPerAccount: number;
  bodyLimitBytes: number;
  maxUrlLength: number;
  maxRestores: number;
  maxMounts: number;
  mountIdleSeconds: number;
  /** Where mounted restore points appear as folders (seed 002's C:\VeeamFLR\<vm-name>). */
  flrRoot: string;
  /**
   * A host group (name or gid) whose members may read FLR folders. Unset (the default): the FLR root is 0700 and
   * folders are served to the server's own user only. Set: the root is 0750 with this group, and folders are
   * mounted with allow_other,default_permissions, so the guest's file modes are enforced for every reader.
   */
  flrGroup?: string;
  /**
   * Failed logons from one address or for one account name within `logonLockoutSeconds` before that address or
   * name is refused (429 with Retry-After) for `logonLockoutSeconds`; each failure before that slows the answer.
   * 0 turns the lockout off.
   */
  logonFailureLimit: number;
  logonLockoutSeconds: number;
  /** The platforms VMs live on (config file only); default one local platform in the data directory. */
  platforms: PlatformSpec[];
  /**
   * The folder that holds the local platforms' `datastores/` (`OPENEM_DATASTORES_DIR`; relative: below the data
   * directory), e.g. an NFS export every node of a cluster mounts, so that all nodes see the same VMs; default the
   * data directory.
   */
  datastoresDir?: string;
  /**
   * A libvirt URI (`qemu:///system`): the URI of every `kvm` platform that names none, and, when no `kvm`
   * platform is configured, adds one (id `kvm`) beside the others.
   */
  libvirtUri?: string;
  debug: boolean;
}

export const DEFAULTS: Omit<Config, 'dataDir' | 'flrRoot' | 'repositoryUrl'> = {
  listen: '0.0.0.0',
  httpsPort: 9398,
  httpPort: 9399,
  logLevel: 'info',
  sessionIdleSeconds: 15 * 60,
  maxSessionsPerAccount: 64,
  bodyLimitBytes: 1024 * 1024,
  maxUrlLength: 8192,
  maxRestores: 2,
  maxMounts: 8,
  mountIdleSeconds: 30 * 60,
  logonFailureLimit: 5,
  logonLockoutSeconds: 300,
  platforms: [{ id: 'local', kind: 'local' }],
  debug: false,
};

const ENV: Record<string, keyof Config> = {
  OPENEM_DATA_DIR: 'dataDir',
  OPENEM_LISTEN: 'listen',
  OPENEM_HTTPS_PORT: 'httpsPort',
  OPENEM_HTTP_PORT: 'httpPort',
  OPENEM_TLS_CERT: 'tlsCert',
  OPENEM_TLS_KEY: 'tlsKey',
  OPENEM_ADMIN_PASSWORD: 'adminPassword',
  OPENEM_DATABASE_URL: 'databaseUrl',
  OPENEM_REPOSITORY_URL: 'repositoryUrl',
  OPENEM_LIBVIRT_URI: 'libvirtUri',
  OPENEM_DATASTORES_DIR: 'datastoresDir',
  OPENEM_LOG_LEVEL: 'logLevel',
  OPENEM_SESSION_IDLE_SECONDS: 'sessionIdleSeconds',
  OPENEM_MAX_RESTORES: 'maxRestores',
  OPENEM_MAX_MOUNTS: 'maxMounts',
  OPENEM_MOUNT_IDLE_SECONDS: 'mountIdleSeconds',
  OPENEM_FLR_ROOT: 'flrRoot',
  OPENEM_FLR_GROUP: 'flrGroup',
  OPENEM_BODY_LIMIT: 'bodyLimitBytes',
  OPENEM_DEBUG: 'debug',
  OPENEM_MAX_SESSIONS_PER_ACCOUNT: 'maxSessionsPerAccount',
  OPENEM_MAX_URL_LENGTH: 'maxUrlLength',
  OPENEM_LOGON_FAILURE_LIMIT: 'logonFailureLimit',
  OPENEM_LOGON_LOCKOUT_SECONDS: 'logonLockoutSeconds',
};

const NUMERIC = new Set<keyof Config>([
  'httpsPort', 'httpPort', 'sessionIdleSeconds', 'maxSessionsPerAccount', 'bodyLimitBytes', 'maxUrlLength',
  'maxRestores', 'maxMounts', 'mountIdleSeconds', 'logonFailureLimit', 'logonLockoutSeconds',
]);

function coerce(key: keyof Config, value: unknown): unknown {
  if (value === undefined || value === null) return undefined;
  if (NUMERIC.has(key)) {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new OpenemError('BAD_CONFIG', `configuration ${key}: "${String(value)}" is not a non-negative integer`);
    return n;
  }
  if (key === 'debug') return value === true || value === 'true' || value === '1';
  if (key === 'platforms') return platformSpecs(value);
  return String(value);
}

function platformSpecs(value: unknown): PlatformSpec[] {
  if (!Array.isArray(value) || value.length === 0) throw new OpenemError('BAD_CONFIG', 'configuration platforms: expected a non-empty list of { "id", "kind" }');
  const ids = new Set<string>();
  return value.map((v, i) => {
    const spec = v as Partial<PlatformSpec> | null;
    const optionalStrings = [spec?.dataDir, spec?.uri, spec?.presentAs, spec?.pool, spec?.consoleLogDir, spec?.accelerator];
    const timeout = spec?.shutdownTimeoutSeconds;
    const badTimeout = timeout !== undefined && !(typeof timeout === 'number' && Number.isInteger(timeout) && timeout >= 0);
    if (typeof spec?.id !== 'string' || spec.id === '' || typeof spec.kind !== 'string' || optionalStrings.some((o) => o !== undefined && typeof o !== 'string') || badTimeout) {
      throw new OpenemError('BAD_CONFIG', `configuration platforms[${i}]: expected { "id": string, "kind": string, "dataDir"?, "uri"?, "presentAs"?, "pool"?, "consoleLogDir"?, "accelerator"?: string, "shutdownTimeoutSeconds"?: integer }`);
    }
    if (ids.has(spec.id)) throw new OpenemError('BAD_CONFIG', `configuration platforms: the id '${spec.id}' is used twice`);
    ids.add(spec.id);
    const { id, kind, dataDir, uri, presentAs, pool, consoleLogDir, accelerator } = spec;
    return {
      id,
      kind,
      ...(dataDir !== undefined ? { dataDir } : {}),
      ...(uri !== undefined ? { uri } : {}),
      ...(presentAs !== undefined ? { presentAs } : {}),
      ...(pool !== undefined ? { pool } : {}),
      ...(consoleLogDir !== undefined ? { consoleLogDir } : {}),
      ...(accelerator !== undefined ? { accelerator } : {}),
      ...(timeout !== undefined ? { shutdownTimeoutSeconds: timeout } : {}),
    };
  });
}

export interface ConfigSources {
  env?: NodeJS.ProcessEnv;
  /** Already-parsed flags, keyed like Config. */
  flags?: Partial<Record<keyof Config, unknown>>;
  /** Path of a JSON config file; default `<dataDir>/openem.json` if it exists. */
  configFile?: string;
}

export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? process.env;
  const fromEnv: Partial<Record<keyof Config, unknown>> = {};
  for (const [name, key] of Object.entries(ENV)) if (env[name] !== undefined && env[name] !== '') fromEnv[key] = env[name];
  const flags = Object.fromEntries(Object.entries(sources.flags ?? {}).filter(([, v]) => v !== undefined));

  const dataDir = resolve(String(flags.dataDir ?? fromEnv.dataDir ?? '.data'));
  const fileName = sources.configFile ?? join(dataDir, 'openem.json');
  let fromFile: Record<string, unknown> = {};
  if (existsSync(fileName)) {
    try {
      fromFile = JSON.parse(readFileSync(fileName, 'utf8'));
    } catch (e) {
      throw new OpenemError('BAD_CONFIG', `configuration file ${fileName} is not valid JSON: ${(e as Error).message}`, { cause: e });
    }
  } else if (sources.configFile) {
    throw new OpenemError('BAD_CONFIG', `configuration file ${fileName} does not exist`);
  }

  const merged: Record<string, unknown> = { ...DEFAULTS };
  for (const layer of [fromFile, fromEnv, flags]) {
    for (const [k, v] of Object.entries(layer)) {
      const c = coerce(k as keyof Config, v);
      if (c !== undefined) merged[k] = c;
    }
  }
  merged.dataDir = dataDir;
  merged.flrRoot = resolve(String(merged.flrRoot ?? join(dataDir, 'flr')));
  if (merged.datastoresDir !== undefined) merged.datastoresDir = resolve(dataDir, String(merged.datastoresDir));
  if (merged.repositoryUrl === undefined) merged.repositoryUrl = join(dataDir, 'repository');
  return merged as unknown as Config;
}
