// The user's worker module (plain JavaScript), deployed by cdk-app.mjs and bundled by the bundle check.
import { Durable } from 'durable-tasks';

export const durable = Durable.fromEnv();
const hello = durable.durableTask({ name: 'hello', fn: async (input, ctx) => ctx.step('greet', () => `Hello, ${input.name}`) });
export default durable.worker('consumer', { workflows: [hello] });
