/** An amount in USD as people read it in a message: `$0.40`. */
export function formatUsd(usd: number): string {
  return `$${usd.toFixed(2)}`;
}
