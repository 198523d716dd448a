// The import rules of the house (docs/architecture.md), checked in CI by `npm run lint:deps`.
// Folders of src/ sit on layers; a module may import its own folder and folders on LOWER layers
// only. That one rule keeps imports running one way: no cycle between folders is possible, type
// imports included (tsPreCompilationDeps). Three more rules: only oidc/ imports oidc-provider, only
// repositories (*.repo.ts) and storage/ reach the database, and bench/ never imports tests/.

/** Higher imports lower. Same number: neither may import the other. */
const LAYERS = {
  // entry points and composition
  'cli': 12, 'main.ts': 11, 'server.ts': 10, 'app.ts': 9, 'ops': 9, 'root.ts': 8,
  // what people and apps reach over HTTP, driving the domains below
  // signing in through an upstream provider: its routes and pages, linking, provisioning and
  // organisation sync; it uses the second factor of the hosted sign-in below it
  'federation': 7.5,
  'interactions': 7, 'admin': 7, 'health': 7,
  // the first run (setup of the first administrator) and the pages at the site's root
  'setup': 7,
  // moving users in and out (import/export): over accounts, workspaces and upstream identities
  'transfer': 6.5,
  // domains, each with its pages/API → service → repository
  'workspaces': 6, 'accounts': 5,
  // what the JSON APIs share (bearer auth, CORS, OpenAPI): only the provider below it
  'api': 4,
  // everything that plugs into oidc-provider; what it needs from accounts/workspaces comes through
  // oidc/ports.ts, wired in root.ts
  'oidc': 3,
  // domains the provider may use directly
  'clients': 2, 'keys': 2, 'audit': 2, 'mfa': 2, 'resources': 2,
  // the registry of upstream identity providers and the identities linked to accounts
  'upstream': 2,
  // the webhook outbox and its delivery: the audit trail writes into it in the same transaction
  'webhooks': 1.9,
  // the ground floor
  'http': 1.4, 'mail': 1.3, 'observability': 1.2, 'security': 1.1, 'storage': 1.1,
  'config': 1, 'errors': 1,
  // templates, message catalogs and the brand: pure, so configuration can check a brand's colours
  'render': 0.9,
};

const names = Object.keys(LAYERS);
const pathOf = (name) => (name.endsWith('.ts') ? `^src/${name.replace('.', '\\.')}$` : `^src/${name}/`);

const layerRules = names.map((name) => {
  const notBelow = names.filter((other) => other !== name && LAYERS[other] >= LAYERS[name]);
  return {
    name: `layer-${name}`,
    comment: `src/${name} (layer ${LAYERS[name]}) may import only lower layers: ${notBelow.join(', ') || 'none'} are not below it`,
    severity: 'error',
    from: { path: pathOf(name) },
    to: { path: notBelow.length ? `(${notBelow.map(pathOf).join('|')})` : '^$' },
  };
}).filter((rule) => rule.to.path !== '^$');

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'a module must not reach itself through its imports',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'folder-unknown',
      comment: 'every folder of src/ has a layer in .dependency-cruiser.cjs (and a line in docs/architecture.md)',
      severity: 'error',
      from: { path: '^src/', pathNot: `(${names.map(pathOf).join('|')})` },
      to: {},
    },
    ...layerRules,
    {
      name: 'only-oidc-imports-oidc-provider',
      comment: 'a library upgrade touches oidc/ alone (and its reliances on undocumented behaviour touch oidc/internals.ts alone)',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/oidc/' },
      to: { path: 'node_modules/oidc-provider/' },
    },
    {
      name: 'only-repositories-touch-the-database',
      comment: 'SQL lives in *.repo.ts files and storage/ (services group repository calls with storage/transactions.ts)',
      severity: 'error',
      from: { path: '^src/', pathNot: '(\\.repo\\.ts$|^src/storage/)' },
      to: { path: 'node_modules/(knex|pg|@electric-sql/pglite|knex-pglite)/' },
    },
    {
      name: 'bench-does-not-import-tests',
      comment: 'the benchmarks stand on their own; shared helpers live in harness/',
      severity: 'error',
      from: { path: '^bench/' },
      to: { path: '^tests/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['es6'],
  },
};
