/**
 * Governance and membership reach the network (issue 12): `expect.params`, the parameter values in
 * force in the committee at the end (every running replica's snapshot, not only the ledger), and
 * `expect.validators`, who is in the active set at the end and who is not.
 * A value the ledger holds but the network does not is a correctness failure (the switch lost it);
 * a value the ledger never took, or a set not reached yet, is missing progress (liveness).
 */
import type { Params } from "../../runtime/core/params.ts"
import type { ValidatorSet } from "../../runtime/core/consensus/validator-set.ts"
import type { Checker, Expectation } from "./expectation.ts"

/** What the checker reads: the running replicas and the ledger's parameters. */
export interface MembershipView {
  /** Every node id that may run a replica (joiners included). */
  ids(): readonly string[]
  app(id: string): { params(): Params; validatorSet(): ValidatorSet; operatorOf(address: string): string | undefined; readonly height: number } | undefined
  ledgerParams(): Params
}

export interface MembershipExpected {
  readonly params?: Readonly<Record<string, unknown>> | undefined
  readonly validators?: { readonly includes?: readonly string[] | undefined; readonly excludes?: readonly string[] | undefined } | undefined
}

const show = (v: unknown) => (typeof v === "number" || typeof v === "boolean" ? String(v) : JSON.stringify(v))

/** The membership checker over `expect.params` and `expect.validators` (nothing judged when absent). */
export const membershipChecker = (expected: MembershipExpected, view: MembershipView): Checker => ({
  expectations: () => {
    const out: Expectation[] = []
    const running = view.ids().map((id) => [id, view.app(id)] as const).filter((x): x is readonly [string, NonNullable<typeof x[1]>] => x[1] !== undefined)
    if (expected.params !== undefined) {
      const wrong: string[] = []
      let onLedger = true
      for (const [name, value] of Object.entries(expected.params)) {
        if (view.ledgerParams()[name as keyof Params] !== value) onLedger = false
        for (const [id, app] of running) {
          const got = app.params()[name as keyof Params]
          if (got !== value) wrong.push(`${id} has ${name} = ${show(got)}`)
        }
      }
      const want = Object.entries(expected.params).map(([n, v]) => `${n} = ${show(v)}`).join(", ")
      out.push({
        name: "params", kind: wrong.length > 0 && onLedger ? "correctness" : "liveness", passed: wrong.length === 0 && running.length > 0,
        detail: wrong.length === 0 ? `${want} in force on every running node` : `${want} expected: ${wrong.slice(0, 4).join("; ")}${onLedger ? " (the ledger has it)" : " (the ledger does not have it either)"}`,
      })
    }
    if (expected.validators !== undefined) {
      let reference: NonNullable<ReturnType<MembershipView["app"]>> | undefined
      for (const [, app] of running) if (reference === undefined || app.height > reference.height) reference = app
      const set = reference === undefined ? [] : reference.validatorSet().validators.map((v) => reference!.operatorOf(v.address) ?? v.address)
      const missing = (expected.validators.includes ?? []).filter((id) => !set.includes(id))
      const extra = (expected.validators.excludes ?? []).filter((id) => set.includes(id))
      out.push({
        name: "validators", kind: "liveness", passed: reference !== undefined && missing.length === 0 && extra.length === 0,
        detail: `active set [${[...set].sort().join(", ")}]${missing.length > 0 ? `; missing ${missing.join(", ")}` : ""}${extra.length > 0 ? `; still in it: ${extra.join(", ")}` : ""}`,
      })
    }
    return out
  },
})
