/**
 * A durable task touching every kind of durable call (now, step, patch, sleep, event wait, child, a failed
 * step), used to export histories and replay them on the test environment and on the embedded default.
 */
import { NonRetryableError, type Durable } from 'durable-tasks';

export interface CheckoutKnobs {
  /** Counts step bodies run, so a test can show a history replay runs none. */
  effects: number;
  /** Renames the first step (an incompatible change). */
  renameStep?: boolean;
}

export function defineCheckout(durable: Durable, knobs: CheckoutKnobs) {
  const receipt = durable.durableTask({
    name: 'receipt',
    fn: async (input: { id: string }, ctx) => ctx.step('print', () => (knobs.effects++, `receipt ${input.id}`)),
  });
  const checkout = durable.durableTask({
    name: 'checkout',
    fn: async (input: { id: string }, ctx) => {
      const startedAt = ctx.now().getTime();
      const price = await ctx.step(knobs.renameStep ? 'price-v2' : 'price', () => (knobs.effects++, input.id.length * 10));
      const express = ctx.patched('express');
      await ctx.sleepFor('1s');
      const paid = await ctx.waitForEvent<{ id: string; amount: number }>('paid', `input.id == "${input.id}"`);
      let declined = '';
      try {
        await ctx.step('charge-backup', () => {
          knobs.effects++;
          throw new NonRetryableError('card declined');
        });
      } catch (error) {
        declined = (error as Error).message;
      }
      const printed = await ctx.runChild(receipt, { id: input.id });
      return { price, express, paid: paid.amount, declined, printed, startedAt: startedAt > 0 };
    },
  });
  return { checkout, receipt };
}

export const CHECKOUT_OUTPUT = { price: 20, express: true, paid: 30, declined: 'card declined', printed: 'receipt c1', startedAt: true };
