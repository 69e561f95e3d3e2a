/**
 * Builds the operations console (console/src) into a folder of static files: `index.html`, one JS bundle and one
 * CSS file, content-hashed. Only esbuild is needed, so `npm start` and the CDK stack (at synth time) both call it.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build, buildSync, type BuildOptions, type Metafile } from 'esbuild';

const SRC = path.join(import.meta.dirname, 'src');

export interface BuildConsoleOptions {
  /** Minify the bundle (default true). */
  minify?: boolean;
}

function esbuildOptions(outDir: string, minify: boolean): BuildOptions & { metafile: true; write: true } {
  return {
    entryPoints: { app: path.join(SRC, 'main.ts') },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify,
    sourcemap: false,
    legalComments: 'none',
    entryNames: '[name]-[hash]',
    outdir: outDir,
    metafile: true,
    write: true,
    logLevel: 'silent',
    // The SigV4 libraries reference process.env in code paths a browser never takes.
    define: { 'process.env.NODE_ENV': '"production"' },
  };
}

/** `index.html` from the template, pointing at the hashed bundle and style sheet: no inline script or style (CSP). */
function writeIndex(outDir: string, metafile: Metafile): void {
  const outputs = Object.keys(metafile.outputs).map((file) => path.basename(file));
  const js = outputs.find((file) => file.endsWith('.js'));
  const css = outputs.find((file) => file.endsWith('.css'));
  if (!js || !css) throw new Error(`console build: expected one .js and one .css output, got ${outputs.join(', ')}`);
  const html = readFileSync(path.join(SRC, 'index.html'), 'utf8').replace('%APP_JS%', js).replace('%APP_CSS%', css);
  writeFileSync(path.join(outDir, 'index.html'), html);
}

function prepare(outDir: string): void {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
}

export async function buildConsole(outDir: string, options: BuildConsoleOptions = {}): Promise<void> {
  prepare(outDir);
  const result = await build(esbuildOptions(outDir, options.minify ?? true));
  writeIndex(outDir, result.metafile);
}

export function buildConsoleSync(outDir: string): void {
  prepare(outDir);
  const result = buildSync(esbuildOptions(outDir, true));
  writeIndex(outDir, result.metafile);
}
