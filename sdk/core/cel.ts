/**
 * The one module that knows the CEL library. Expressions compile once (at definition, or when a wait is
 * registered) and evaluate many times. Swap the library here and nowhere else.
 */
import { Environment } from '@marcbachmann/cel-js';
import { InvalidExpressionError } from './errors.ts';

/** A compiled CEL predicate over one variable. */
export interface CompiledExpression {
  readonly source: string;
  /** True when the expression holds for `value` (bound to the variable the expression was compiled for). */
  matches(value: unknown): boolean;
}

type Variable = 'input' | 'output';

const environments = new Map<Variable, Environment>();
const cache = new Map<string, CompiledExpression>();
const MAX_CACHE = 10_000;

function environment(variable: Variable): Environment {
  let env = environments.get(variable);
  if (!env) {
    env = new Environment({ homogeneousAggregateLiterals: false }).registerVariable(variable, 'dyn');
    environments.set(variable, env);
  }
  return env;
}

const ALWAYS: (source: string) => CompiledExpression = (source) => ({ source, matches: () => true });

/**
 * Compiles `source` as a predicate over `variable` (`input` for event payloads, `output` for parent outputs).
 * An empty expression matches everything.
 *
 * @throws {InvalidExpressionError} syntax error or unknown variable, naming the expression and position.
 */
export function compileExpression(source: string, variable: Variable = 'input'): CompiledExpression {
  if (typeof source !== 'string') {
    throw new InvalidExpressionError(String(source), undefined, `expected a string, got ${typeof source}`);
  }
  const cacheKey = `${variable}\u0000${source}`;
  const cached = cache.get(cacheKey);
  if (cached) return cached;
  let compiled: CompiledExpression;
  if (source.trim() === '') {
    compiled = ALWAYS(source);
  } else {
    const env = environment(variable);
    let evaluate: (context: Record<string, unknown>) => unknown;
    try {
      evaluate = env.parse(source) as unknown as (context: Record<string, unknown>) => unknown;
    } catch (error) {
      throw invalid(source, error);
    }
    const check = env.check(source) as { valid: boolean; type?: string; error?: unknown };
    if (!check.valid) throw invalid(source, check.error);
    if (check.type && check.type !== 'bool' && check.type !== 'dyn') {
      throw new InvalidExpressionError(source, undefined, `it yields ${check.type}, a condition must yield bool`);
    }
    compiled = {
      source,
      matches(value: unknown): boolean {
        let result: unknown;
        try {
          result = evaluate({ [variable]: toCel(value) });
        } catch (error) {
          throw invalid(source, error);
        }
        if (typeof result !== 'boolean') {
          throw new InvalidExpressionError(source, undefined, `it yielded ${typeof result}, a condition must yield bool`);
        }
        return result;
      },
    };
  }
  if (cache.size >= MAX_CACHE) cache.clear();
  cache.set(cacheKey, compiled);
  return compiled;
}

/** JSON payloads may hold null where CEL expects a map: give CEL an empty map rather than undefined. */
function toCel(value: unknown): unknown {
  return value === undefined ? null : value;
}

function invalid(source: string, error: unknown): InvalidExpressionError {
  const err = error as { message?: string; node?: { pos?: number } } | undefined;
  const firstLine = String(err?.message ?? error).split('\n')[0] ?? 'invalid expression';
  const position = typeof err?.node?.pos === 'number' ? err.node.pos : undefined;
  return new InvalidExpressionError(source, position, firstLine, { cause: error });
}

/** A compiled CEL expression over `input` that yields a value (a concurrency or rate-limit key). */
export interface CompiledValueExpression {
  readonly source: string;
  /** The expression's value for `input`. @throws {InvalidExpressionError} when evaluating it fails */
  evaluate(input: unknown): unknown;
}

/**
 * Compiles `source` as a value over `input`.
 * @throws {InvalidExpressionError} empty, a syntax error or an unknown variable, naming the expression and position.
 */
export function compileValueExpression(source: string): CompiledValueExpression {
  if (typeof source !== 'string' || source.trim() === '') {
    throw new InvalidExpressionError(String(source), undefined, `expected a non-empty CEL expression over input, got ${JSON.stringify(source) ?? String(source)}`);
  }
  const env = environment('input');
  let evaluate: (context: Record<string, unknown>) => unknown;
  try {
    evaluate = env.parse(source) as unknown as (context: Record<string, unknown>) => unknown;
  } catch (error) {
    throw invalid(source, error);
  }
  const check = env.check(source) as { valid: boolean; error?: unknown };
  if (!check.valid) throw invalid(source, check.error);
  return {
    source,
    evaluate(input: unknown): unknown {
      try {
        return evaluate({ input: toCel(input) });
      } catch (error) {
        throw invalid(source, error);
      }
    },
  };
}
