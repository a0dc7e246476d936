import type { Backend, CronRecord, CronStore } from '../../ports.ts';

/**
 * Where crons go on a backend assembled without a CronStore (a hand-built Backend): this process only. Every
 * backend durable-tasks builds has a real one (the table; the memory adapters' in tests).
 */
class ProcessCronStore implements CronStore {
  private readonly crons = new Map<string, CronRecord>();
  async createCron(cron: CronRecord) {
    if (this.crons.has(cron.name)) return false;
    this.crons.set(cron.name, structuredClone(cron));
    return true;
  }
  async putCron(cron: CronRecord) {
    this.crons.set(cron.name, structuredClone(cron));
  }
  async getCron(name: string) {
    const cron = this.crons.get(name);
    return cron && structuredClone(cron);
  }
  async listCrons() {
    return [...this.crons.values()].map((c) => structuredClone(c));
  }
  async deleteCron(name: string) {
    return this.crons.delete(name);
  }
}

/** The backend's CronStore, giving a backend without one a store in this process. */
export function cronStoreOf(backend: Backend): CronStore {
  return (backend.crons ??= new ProcessCronStore());
}
