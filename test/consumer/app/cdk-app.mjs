// A CDK app in plain JavaScript: synthesizes the DurableTasks construct offline (no credentials, no account).
import { App, Stack } from 'aws-cdk-lib';
import { DurableTasks } from 'durable-tasks/infra';

const app = new App({ outdir: process.argv[2] ?? 'cdk.out' });
const stack = new Stack(app, 'ConsumerStack');
new DurableTasks(stack, 'Durable', { entry: 'worker.mjs' });
const assembly = app.synth();
const template = assembly.getStackByName('ConsumerStack').template;
const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
if (functions.length !== 3) throw new Error(`expected 3 Lambda functions, got ${functions.length}`);
console.log(`cdk-app.mjs: synthesized ConsumerStack with ${Object.keys(template.Resources).length} resources, ${functions.length} functions`);
