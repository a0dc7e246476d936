// CommonJS: require() of the ESM package (Node >= 20.19 loads ES modules synchronously).
const assert = require('node:assert');
const sdk = require('durable-tasks');
const testing = require('durable-tasks/testing');
const infra = require('durable-tasks/infra');
assert.equal(typeof sdk.Durable.local, 'function');
assert.equal(typeof sdk.UserEventCondition, 'function');
assert.equal(typeof testing.createTestEnvironment, 'function');
assert.equal(typeof infra.DurableTasks, 'function');
console.log(`require.cjs: ${Object.keys(sdk).length} exports from durable-tasks, testing and infra load`);
