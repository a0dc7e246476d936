import { describe, expect, it } from 'vitest';
import { build } from './support.ts';

/**
 * One snapshot of the whole template, to review any change in a diff. Asset hashes (and the S3 keys built from
 * them) are masked: they change with any source file and say nothing about the infrastructure.
 */
describe('given a DurableTasks with default props', () => {
  it('then the template matches the reviewed snapshot', () => {
    const json = JSON.stringify(build().template.toJSON(), null, 2).replace(/[0-9a-f]{64}/g, '<asset-hash>');
    expect(JSON.parse(json)).toMatchSnapshot();
  });
});
