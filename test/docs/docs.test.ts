import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../local/ports';
import { waitForOutput } from '../support/process';

/**
 * Keeps the documentation true:
 * - every relative link in the product's markdown resolves to a file of this repository (and, for `#anchor` links
 *   into markdown, to one of its headings);
 * - every "DESIGN §n" the code cites is a section of docs/design.md;
 * - the README walk-through, run as written against a fresh `npm start`, answers what its comments say.
 */
const ROOT = path.resolve(__dirname, '../..');
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

const DOCS = [
  'README.md',
  'CHANGELOG.md',
  'bench/README.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

// ---- markdown -----------------------------------------------------------------------------------------------------

/** The text outside fenced code blocks and HTML comments, line numbers kept (blanked lines stay). */
function proseLines(markdown: string): string[] {
  let fenced = false;
  return markdown
    .replace(/<!--[\s\S]*?-->/g, (comment) => comment.replace(/[^\n]/g, ''))
    .split('\n')
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) {
        fenced = !fenced;
        return '';
      }
      return fenced ? '' : line;
    });
}

/** GitHub's heading anchors (github-slugger): lowercase, punctuation and symbols dropped, spaces to hyphens, -1, -2 … for repeats. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = heading
      .replace(/<[^>]*>/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  for (const [, id] of markdown.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(id!);
  return anchors;
}

interface Link {
  file: string;
  line: number;
  target: string;
}

function relativeLinks(file: string): Link[] {
  const links: Link[] = [];
  proseLines(read(file)).forEach((text, index) => {
    // Inline code may show link syntax without being a link.
    const line = text.replace(/`[^`]*`/g, '');
    for (const match of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = match[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      links.push({ file, line: index + 1, target });
    }
  });
  return links;
}

/** Why a link does not resolve, or undefined when it does. */
function brokenBecause(link: Link): string | undefined {
  const [pathPart = '', anchor] = link.target.split('#', 2);
  const resolved = pathPart === '' ? path.join(ROOT, link.file) : path.resolve(path.dirname(path.join(ROOT, link.file)), decodeURIComponent(pathPart));
  if (resolved !== ROOT && !resolved.startsWith(`${ROOT}${path.sep}`)) return 'points outside the repository';
  if (!existsSync(resolved)) return `${path.relative(ROOT, resolved)} does not exist`;
  if (anchor !== undefined && resolved.endsWith('.md')) {
    const anchors = headingAnchors(readFileSync(resolved, 'utf8'));
    if (!anchors.has(decodeURIComponent(anchor))) return `no heading #${anchor} in ${path.relative(ROOT, resolved)}`;
  }
  return undefined;
}

describe('links in the documentation', () => {
  it.each(DOCS)('%s: every relative link resolves (file, and heading for #anchors)', (file) => {
    const broken = relativeLinks(file).flatMap((link) => {
      const why = brokenBecause(link);
      return why ? [`${link.file}:${link.line} (${link.target}): ${why}`] : [];
    });
    expect(broken).toEqual([]);
  });

  it('finds links and anchors the way GitHub renders them (self-check)', () => {
    expect(headingAnchors('## 8. Events out (not built yet)\n## `npm start` → up\n## Same\n## Same')).toEqual(
      new Set(['8-events-out-not-built-yet', 'npm-start--up', 'same', 'same-1']),
    );
    expect(relativeLinks('README.md').map((l) => l.target)).toContain('docs/design.md');
  });
});

describe('docs/design.md is the contract the code cites', () => {
  const design = read('docs/design.md');
  const sections = [...design.matchAll(/^## (\d+)\. /gm)].map((m) => Number(m[1]));

  it('has sections §1–§9, in order', () => {
    expect(sections).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('every "DESIGN §n" cited in the code is one of them', () => {
    const cited = new Set<number>();
    const walk = (dir: string): void => {
      for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
        const rel = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(rel);
        else if (/\.(ts|cjs|mjs|js)$/.test(entry.name)) for (const m of read(rel).matchAll(/DESIGN §(\d+)/g)) cited.add(Number(m[1]));
      }
    };
    ['lambdas', 'lib', 'local', 'scripts', 'bench', 'test', 'bin'].forEach(walk);
    expect(cited.size).toBeGreaterThan(0);
    expect([...cited].filter((n) => !sections.includes(n))).toEqual([]);
  });
});

/** Paths the documents may name although they are not in the tree, and why. */
const ABSENT_ON_PURPOSE: Record<string, string> = {
  'bench/results/latest.json': 'written by npm run bench, git-ignored',
  'lambdas/local/': 'where the dev tooling lived before (CHANGELOG)',
  'lambdas/domain/schemas.ts': 'the schemas module before it was split (CHANGELOG)',
};

describe('the product documents', () => {
  it('the README stays a landing page (at most 200 lines)', () => {
    expect(read('README.md').split('\n').length).toBeLessThanOrEqual(200);
  });

  it.each(DOCS)('%s: every repository path in `code` exists', (file) => {
    const missing = new Set<string>();
    for (const [, span] of read(file).matchAll(/`([^`\n]+)`/g)) {
      const candidate = span!.trim();
      // Placeholders (<name>, *, {id}) and commands are not paths.
      if (!/^\.?(lambdas|local|lib|bin|scripts|bench|test|docs|\.ci)\/[\w./-]*$/.test(candidate)) continue;
      if (!existsSync(path.join(ROOT, candidate)) && !(candidate in ABSENT_ON_PURPOSE)) missing.add(candidate);
    }
    expect([...missing]).toEqual([]);
  });

  it.each(DOCS)('%s: every `npm run <script>` is a script of package.json', (file) => {
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
    const named = [...read(file).matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]!);
    expect(named.filter((name) => !scripts.includes(name))).toEqual([]);
  });

  it.each(DOCS)('%s names no tracker issue numbers (dates and descriptions instead)', (file) => {
    expect(
      read(file)
        .split('\n')
        .filter((line) => /\bissues?\s*#?\d/i.test(line)),
    ).toEqual([]);
  });
});

// ---- the README walk-through ----------------------------------------------------------------------------------------

interface Step {
  /** 1-based line in the README. */
  line: number;
  command: string;
  /** The `# → NNN` status the README announces; null = any 2xx. */
  expected: number | null;
}

/** The walk-through: the ```sh block between the walkthrough markers; one step per command (`\` continuations joined). */
function walkThrough(readme: string): { block: string; steps: Step[] } {
  const match = /<!-- walkthrough:begin -->\n```sh\n([\s\S]*?)\n```\n<!-- walkthrough:end -->/.exec(readme);
  if (!match) throw new Error('README.md: no ```sh block between <!-- walkthrough:begin --> and <!-- walkthrough:end -->');
  const block = match[1]!;
  const firstLine = readme.slice(0, match.index).split('\n').length + 2;
  const steps: Step[] = [];
  let pending: string[] = [];
  let start = 0;
  block.split('\n').forEach((line, index) => {
    if (pending.length === 0 && (line.trim() === '' || line.trim().startsWith('#'))) return;
    if (pending.length === 0) start = firstLine + index;
    pending.push(line);
    if (line.endsWith('\\')) return;
    const status = /#\s*→\s*(\d{3})\b/.exec(line)?.[1];
    steps.push({ line: start, command: pending.join('\n'), expected: status ? Number(status) : null });
    pending = [];
  });
  if (pending.length > 0) throw new Error('README.md walk-through ends inside a continued command');
  return { block, steps };
}

interface StepResult {
  finished: boolean;
  exitCode: number | null;
  statuses: number[];
  output: string;
}

/**
 * Runs the steps in ONE bash, as a reader pasting the block into a terminal would (so `op=$(…)` carries over), each
 * step between markers on stderr. `curl` is wrapped to print each answer's status code after the body.
 */
function runSteps(steps: Step[], timeoutMs: number): Promise<StepResult[]> {
  const script = [
    // After the step's own options, so this -w wins over any the README adds (curl keeps the last one).
    `curl() { command curl "$@" -w '%{stderr}\\n@@HTTP %{http_code}\\n'; }`,
    ...steps.map((step, i) => `echo "@@STEP ${i}" >&2\n{ ${step.command}\n} >&2\necho "@@END ${i} $?" >&2`),
  ].join('\n');
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LC_ALL: 'C.UTF-8' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // A polling loop that never ends (the service never got there): stop the whole group, report what ran.
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), timeoutMs);
    child.once('close', () => {
      clearTimeout(timer);
      resolve(
        steps.map((_, i) => {
          const begin = output.indexOf(`@@STEP ${i}\n`);
          if (begin < 0) return { finished: false, exitCode: null, statuses: [], output: '' };
          const rest = output.slice(begin + `@@STEP ${i}\n`.length);
          const end = new RegExp(`@@END ${i} (\\d+)\\n`).exec(rest);
          const segment = end ? rest.slice(0, end.index) : rest;
          return {
            finished: end !== null,
            exitCode: end ? Number(end[1]) : null,
            statuses: [...segment.matchAll(/@@HTTP (\d{3})/g)].map((m) => Number(m[1])),
            output: segment.replace(/\n?@@HTTP \d{3}\n/g, '\n').trim(),
          };
        }),
      );
    });
  });
}

describe('README walk-through against npm start', () => {
  const { block, steps } = walkThrough(read('README.md'));
  let child: ChildProcess | undefined;
  let exited: Promise<number | null> | undefined;
  let results: StepResult[] = [];

  it('uses only the service (3000), simulator (3100) and event sink (3200) ports, which the test replaces', () => {
    expect(steps.length).toBeGreaterThanOrEqual(10);
    expect([...block.matchAll(/(?:localhost|127\.0\.0\.1):(\d+)/g)].map((m) => m[1]).filter((p) => !['3000', '3100', '3200'].includes(p!))).toEqual([]);
  });

  beforeAll(async () => {
    const [port, simPort, sinkPort] = [await freePort(), await freePort(), await freePort()];
    // Only what a user's shell would have: the Jest stack's endpoints and table names must not leak in.
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      PORT: String(port),
      D1_SIM_PORT: String(simPort),
      LOCAL_DDB_PORT: String(await freePort()),
      LOCAL_SQS_PORT: String(await freePort()),
      EVENT_SINK_PORT: String(sinkPort),
      LOG_LEVEL: 'WARN',
    };
    const started = spawn(process.execPath, ['--import', 'tsx', 'local/dev.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    exited = new Promise((resolve) => started.once('exit', (code) => resolve(code)));
    await waitForOutput(started, /token-lifecycle is up in \d+ ms/, 120_000);
    const local = (command: string): string =>
      command
        .replace(/localhost:3000\b/g, `localhost:${port}`)
        .replace(/localhost:3100\b/g, `localhost:${simPort}`)
        .replace(/(localhost|127\.0\.0\.1):3200\b/g, `$1:${sinkPort}`);
    results = await runSteps(
      steps.map((step) => ({ ...step, command: local(step.command) })),
      180_000,
    );
  }, 330_000);

  afterAll(async () => {
    child?.kill('SIGTERM');
    await exited;
  }, 30_000);

  it.each(steps.map((step, i) => [`README.md:${step.line} ${step.command.split('\n')[0]!.slice(0, 70)}`, i] as const))('%s', (_label, i) => {
    const step = steps[i]!;
    const result = results[i]!;
    const report = `README.md:${step.line}\n$ ${step.command}\n${result.output}`;
    expect({ finished: result.finished, exitCode: result.exitCode, report }).toEqual({ finished: true, exitCode: 0, report });
    expect({ curlCalls: result.statuses.length > 0, report }).toEqual({ curlCalls: true, report });
    const wrong = result.statuses.filter((status) => (step.expected === null ? status < 200 || status > 299 : status !== step.expected));
    expect({ expected: step.expected ?? '2xx', wrong, report }).toEqual({ expected: step.expected ?? '2xx', wrong: [], report });
  });
});
