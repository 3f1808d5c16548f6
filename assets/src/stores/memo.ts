/**
 * Memoises a derived value on the identity of its inputs, so a selector that builds a new
 * array or object returns the same one until its inputs change (what useSyncExternalStore
 * needs to avoid re-rendering forever).
 */
export function memoOn<A extends readonly unknown[], R>(derive: (...args: A) => R): (...args: A) => R {
  let last: { args: A; value: R } | null = null;
  return (...args: A) => {
    if (last && last.args.length === args.length && last.args.every((a, i) => Object.is(a, args[i]))) {
      return last.value;
    }
    const value = derive(...args);
    last = { args, value };
    return value;
  };
}
