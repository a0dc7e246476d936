import type { CronRecord, CronStore, RequestCounter } from '../../ports.ts';

/** In-process CronStore with the DynamoDB one's semantics (conditional create, copies in and out). */
export class MemoryCronStore implements CronStore {
  private readonly crons = new Map<string, CronRecord>();

  constructor(private readonly counter?: RequestCounter) {}

  private count(op: string) {
    this.counter?.count(`Memory.${op}`);
  }

  async createCron(cron: CronRecord): Promise<boolean> {
    this.count('createCron');
    if (this.crons.has(cron.name)) return false;
    this.crons.set(cron.name, structuredClone(cron));
    return true;
  }

  async putCron(cron: CronRecord): Promise<void> {
    this.count('putCron');
    this.crons.set(cron.name, structuredClone(cron));
  }

  async getCron(name: string): Promise<CronRecord | undefined> {
    this.count('getCron');
    const cron = this.crons.get(name);
    return cron && structuredClone(cron);
  }

  async listCrons(): Promise<CronRecord[]> {
    this.count('listCrons');
    return [...this.crons.values()].map((c) => structuredClone(c));
  }

  async deleteCron(name: string): Promise<boolean> {
    this.count('deleteCron');
    return this.crons.delete(name);
  }
}
