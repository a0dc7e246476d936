// The entry `durable dev` serves in the consumer test (plain JavaScript: no TypeScript loader installed).
import { Durable } from 'durable-tasks';

export const durable = Durable.local({ inMemory: true });
durable.durableTask({ name: 'hello', fn: async (input) => `Hello, ${input.name}` });
