// Debian tools the real-client tests use (mitmdump, java, python3-requests, curl): found, or
// installed by the tests themselves (scripts/debian.mjs), as test/helpers/browser.ts does for
// Chromium. Where packages can be installed (root with apt-get, as in CI), a failed install is
// an error, never a skipped test.
import { execFileSync } from 'node:child_process';
import { canInstall, installDebianPackages, which } from '../../scripts/debian.mjs';

/** What a test needs: a check that it is there, and the Debian packages that provide it. */
export interface ToolSpec {
  /** Human name, for messages. */
  readonly name: string;
  readonly packages: readonly string[];
  /** True when the tool works here. */
  readonly present: () => boolean;
}

/** A command on PATH. */
export const command = (cmd: string, packages: readonly string[]): ToolSpec => ({
  name: cmd,
  packages,
  present: () => which(cmd) !== null,
});

/** A Python module importable by Debian's /usr/bin/python3. */
export const pythonModule = (module: string, packages: readonly string[]): ToolSpec => ({
  name: `python3 module ${module}`,
  packages,
  present: () => {
    try {
      execFileSync('/usr/bin/python3', ['-c', `import ${module}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  },
});

/**
 * null when every tool is there (after installing what is missing, where this user may), else
 * a one-line reason to skip. Throws when an install that should have worked failed.
 */
export function ensureTools(...specs: ToolSpec[]): string | null {
  const missing = specs.filter((s) => !s.present());
  if (missing.length === 0) return null;
  const names = missing.map((s) => s.name).join(', ');
  if (!canInstall()) return `${names} missing, and this user cannot install Debian packages (needs root and apt-get)`;
  const failed = installDebianPackages([...new Set(missing.flatMap((s) => s.packages))]);
  if (failed !== null) throw new Error(`Cannot set up ${names}: ${failed}`);
  const still = missing.filter((s) => !s.present());
  if (still.length > 0) throw new Error(`${still.map((s) => s.name).join(', ')} still missing after apt-get install`);
  return null;
}

export const MITMDUMP = command('mitmdump', ['mitmproxy']);
export const CURL = command('curl', ['curl']);
/** `java File.java` (single-file programs) needs the JDK's compiler, so javac is the probe. */
export const JAVA = command('javac', ['openjdk-17-jdk-headless']);
export const PYTHON_REQUESTS = pythonModule('requests', ['python3-requests']);
export const PYTHON_MITMPROXY = pythonModule('mitmproxy.io', ['mitmproxy']);
