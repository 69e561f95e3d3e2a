import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LAMBDA_NODE_MAJOR, LAMBDA_RUNTIME } from '../../lib/constructs/service-function';

// Local runs, tests and the bench must exercise the Node that Lambda runs, not whatever Node the machine has.
const root = path.resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};

describe('Node runtime', () => {
  it("runs the tests on the Lambda runtime's Node major", () => {
    expect(process.version).toMatch(new RegExp(`^v${LAMBDA_NODE_MAJOR}\\.`));
    expect(LAMBDA_RUNTIME.name).toBe(`nodejs${LAMBDA_NODE_MAJOR}.x`);
  });

  it('pins that Node as an exact dev dependency, and engines and .nvmrc say the same major', () => {
    expect(pkg.devDependencies.node).toMatch(new RegExp(`^${LAMBDA_NODE_MAJOR}\\.\\d+\\.\\d+$`));
    expect(process.version).toBe(`v${pkg.devDependencies.node}`);
    expect(pkg.engines.node).toBe(`${LAMBDA_NODE_MAJOR}.x`);
    expect(readFileSync(path.join(root, '.nvmrc'), 'utf8').trim()).toBe(String(LAMBDA_NODE_MAJOR));
  });
});
