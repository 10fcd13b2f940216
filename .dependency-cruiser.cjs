/**
 * The dependency rules of ARCHITECTURE.md, checked by `npm run check-deps`, which `npm test` runs before the tests:
 * data flows one way, api -> services -> (tasks, repository, platform, guestfs, state) -> disks, with the shared
 * bottom (errors, config, context, logger, host) below them all; backends of one layer stay apart; no import
 * circle, type imports included.
 */
const ENGINE = '(tasks|repository|platform|guestfs|state|disks|host)';
const BACKENDS = [
  ['guestfs', 'ext4|ntfs'],
  ['platform', 'local|kvm'],
  ['repository/stores', 'local|s3'],
  ['state', 'sqlite|postgres'],
];

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle (type imports included) ties its files into one piece that cannot be understood, tested or replaced alone.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'nothing-below-api-imports-api',
      severity: 'error',
      comment: 'The wire format stays in api/: services and the engine never know about HTTP.',
      from: { path: `^src/(services|${ENGINE.slice(1, -1)})/` },
      to: { path: '^src/api/' },
    },
    {
      name: 'engine-does-not-import-services',
      severity: 'error',
      comment: 'Tasks, repository, platform, guestfs, state and disks sit below the use cases.',
      from: { path: `^src/${ENGINE}/` },
      to: { path: '^src/services/' },
    },
    {
      name: 'data-layers-import-only-disks',
      severity: 'error',
      comment: 'guestfs, platform and repository read disks through block sources; none of the three imports another (ARCHITECTURE.md).',
      from: { path: '^src/(guestfs|platform|repository)/' },
      to: { path: '^src/(guestfs|platform|repository|tasks|state)/', pathNot: '^src/$1/' },
    },
    {
      name: 'only-main-imports-cli',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(cli/|main\\.ts$)' },
      to: { path: '^src/cli/' },
    },
    ...BACKENDS.map(([layer, names]) => ({
      name: `${layer.replace('/', '-')}-backends-apart`,
      severity: 'error',
      comment: `One backend of ${layer}/ never imports another: each is a folder of its own behind the layer's interface.`,
      from: { path: `^src/${layer}/(${names})/` },
      to: { path: `^src/${layer}/(${names})/`, pathNot: `^src/${layer}/$1/` },
    })),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
