// Types for the `shamirs-secret-sharing` package (it ships none): the synchronous API we use.
declare module "shamirs-secret-sharing" {
  export interface SplitOptions {
    readonly shares: number
    readonly threshold: number
    /** n random bytes; the result must have `toString("hex")` (a Node Buffer does). */
    readonly random?: (n: number) => Buffer
  }
  export function split(secret: Uint8Array, options: SplitOptions): Buffer[]
  export function combine(shares: readonly Uint8Array[]): Buffer
}
