#!/usr/bin/env node
// The browser the HTML report's tests drive (test/**/*.browser.test.ts): Debian's chromium, installed
// with apt like the test apiserver's packages (scripts/test-env.mjs). Idempotent; fails loudly when it
// cannot install, never skips.
//   node scripts/browser-env.mjs install
// Plain Node ESM: it runs before anything is built.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CHROMIUM = process.env.SERVERLESS_MESH_CHROMIUM ?? '/usr/bin/chromium';

const log = (msg) => process.stderr.write(`[browser-env] ${msg}\n`);

function run(cmd, args) {
  log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
}

function sudoPrefix() {
  if (process.getuid?.() === 0) return [];
  if (spawnSync('sh', ['-c', 'command -v sudo']).status === 0) return ['sudo', '-n'];
  throw new Error(`${PACKAGES.join(', ')}: not all installed, and this is not root (and no sudo): apt-get install ${PACKAGES.join(' ')}`);
}

/**
 * Chromium, and the fonts the screenshots were taken with: the report names only generic families,
 * which Chromium resolves to Liberation (sans-serif, Arial's metrics) and DejaVu on Debian.
 */
const PACKAGES = ['chromium', 'fonts-liberation', 'fonts-dejavu-core'];

const installed = (pkg) =>
  spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' }).stdout?.trim() === 'install ok installed';

/** Makes sure chromium (and its fonts) are installed and it starts; throws otherwise. */
export function install() {
  const need = PACKAGES.filter((p) => !installed(p));
  if (need.length || !existsSync(CHROMIUM)) {
    const sudo = sudoPrefix();
    const sh = (args) => run(sudo[0] ?? args[0], sudo.length ? [...sudo.slice(1), ...args] : args.slice(1));
    sh(['apt-get', 'update', '-q']);
    sh([
      'env',
      'DEBIAN_FRONTEND=noninteractive',
      'apt-get',
      'install',
      '-y',
      '-q',
      '--no-install-recommends',
      ...(need.length ? need : ['chromium']),
    ]);
    if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium, but ${CHROMIUM} is still missing`);
  }
  const r = spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${CHROMIUM} --version failed: ${r.stderr || r.error?.message}`);
  log(r.stdout.trim());
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const cmd = process.argv[2];
  if (cmd !== 'install') {
    process.stderr.write('usage: browser-env.mjs install\n');
    process.exit(2);
  }
  install();
}
