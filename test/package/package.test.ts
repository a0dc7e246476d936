import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Durable, DurableError } from 'durable-tasks';

/** The manifest as npm publishes it; test/consumer/run.sh checks the packed tarball itself. */
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  main: string;
  types: string;
  exports: Record<string, string | { types: string; default: string }>;
  files: string[];
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};

describe('given the package manifest', () => {
  it('then every entry point is compiled JavaScript with its .d.ts under dist/, which the files whitelist ships', () => {
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (subpath === './package.json') continue;
      expect(target, subpath).toEqual({ types: expect.stringMatching(/^\.\/dist\/.*\.d\.ts$/), default: expect.stringMatching(/^\.\/dist\/.*\.js$/) });
    }
    expect([pkg.main, pkg.types]).toEqual(['./dist/sdk/index.js', './dist/sdk/index.d.ts']);
    expect(pkg.files).not.toContain('test');
    expect(pkg.files.every((f) => /^(dist\/|bin$|LICENSE$|README\.md$)/.test(f))).toBe(true);
  });

  it('then the CDK, esbuild and tsx are optional peers, never dependencies, and the embedded default is a dependency', () => {
    for (const name of ['aws-cdk-lib', 'constructs', 'esbuild', 'tsx']) {
      expect(pkg.dependencies[name], name).toBeUndefined();
      expect(pkg.peerDependencies[name], name).toBeDefined();
      expect(pkg.peerDependenciesMeta[name]?.optional, name).toBe(true);
    }
    expect(Object.keys(pkg.dependencies)).toEqual(expect.arrayContaining(['dynalite', 'fauxqs']));
  });
});

describe('given a client constructed without a backend (the published types do not offer one)', () => {
  it('then it throws a DurableError naming the factories', () => {
    expect(() => new Durable({} as never)).toThrow(DurableError);
    expect(() => new Durable({} as never)).toThrow(/Durable\.local\(\), Durable\.fromEnv\(\) or createTestEnvironment\(\)/);
  });
});
