// Types for the `shamir` package (0.7.1, it ships none), used only by shamir.test.ts as a cross-check.
declare module "shamir" {
  /** Parts keyed by x coordinate ("1".."n"), each the secret's length of y bytes. */
  export function split(randomBytes: (n: number) => Uint8Array, parts: number, quorum: number, secret: Uint8Array): Record<string, Uint8Array>
  export function join(parts: Record<string, Uint8Array>): Uint8Array
}
