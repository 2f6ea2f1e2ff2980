/**
 * Who holds every role of a deployed system, read back from the chain (not from what the deploy
 * script meant to do): the AccessControl roles of Staking and ContributionRegistry, replayed from
 * their RoleGranted / RoleRevoked events since the deployment block and confirmed with `hasRole`,
 * and the single-holder roles (the token's governance and guardian, the Constitution's and the
 * Treasury's governance). A holder is named by contract when it is one of the deployment's, and
 * marked "account" when no code lives at its address (an externally owned account).
 *
 * The Committee contract has no role of its own (no admin, no setter): it holds Staking's and the
 * ComputeMarket's COMMITTEE_ROLE and acts only on epoch reports signed by 2/3 of a snapshot's voting power.
 *
 * The Treasury's M-of-N signers are not a role of the system (they move only the Treasury's own
 * multisig spends) and are listed apart, in the deployment's `treasury` record.
 */
import { Contract, getAddress, ZeroAddress, type Provider } from "ethers"
import type { ContractName } from "../../runtime/adapters/evm/deployment.ts"

type Any = any // ethers contracts without typechain

/** One role and one holder of it. */
export interface RoleHolder {
  readonly contract: ContractName
  /** The role's name: an AccessControl role constant's name, or `governance` / `guardian`. */
  readonly role: string
  /** Its holder (the zero address: nobody). */
  readonly holder: string
  /** A deployment contract's name, "contract" for other code, "account" for an externally owned account, "none". */
  readonly kind: ContractName | "contract" | "account" | "none"
}

const ACCESS_CONTROL_ABI = [
  "function hasRole(bytes32 role, address account) view returns (bool)",
  "function DEFAULT_ADMIN_ROLE() view returns (bytes32)",
  "event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender)",
  "event RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender)",
]
/** The AccessControl contracts and the role constants each declares (besides DEFAULT_ADMIN_ROLE). */
export const ACCESS_CONTROL_ROLES: Readonly<Partial<Record<ContractName, readonly string[]>>> = {
  Staking: ["DEFAULT_ADMIN_ROLE", "PARAMS_ROLE", "COMMITTEE_ROLE"],
  ContributionRegistry: ["DEFAULT_ADMIN_ROLE", "SCORER_ROLE"],
  ComputeMarket: ["DEFAULT_ADMIN_ROLE", "COMMITTEE_ROLE"],
}
/** The single-holder roles: contract → its getters naming a holder. */
export const SINGLE_ROLES: Readonly<Partial<Record<ContractName, readonly string[]>>> = {
  DAIToken: ["governance", "guardian"],
  Constitution: ["governance"],
  Treasury: ["governance"],
}

/** Every role of the deployment's contracts with its holders now (a role nobody holds is listed once, holder zero). */
export const readRoles = async (
  provider: Provider,
  deployment: { readonly contracts: Readonly<Record<ContractName, string>>; readonly deploymentBlock: number },
): Promise<RoleHolder[]> => {
  const byAddress = new Map(Object.entries(deployment.contracts).map(([n, a]) => [a.toLowerCase(), n as ContractName]))
  const kindOf = async (holder: string): Promise<RoleHolder["kind"]> => {
    if (holder === ZeroAddress) return "none"
    const named = byAddress.get(holder.toLowerCase())
    if (named !== undefined) return named
    return (await provider.getCode(holder)) === "0x" ? "account" : "contract"
  }
  const out: RoleHolder[] = []
  for (const [contract, roles] of Object.entries(ACCESS_CONTROL_ROLES) as Array<[ContractName, readonly string[]]>) {
    const abi = [...ACCESS_CONTROL_ABI, ...roles.map((r) => `function ${r}() view returns (bytes32)`)]
    const c: Any = new Contract(deployment.contracts[contract], abi, provider)
    const ids = new Map<string, string>()
    for (const r of roles) ids.set(String(await c[r]()), r)
    const candidates = new Map<string, Set<string>>()
    const logs: Any[] = [
      ...(await c.queryFilter(c.filters.RoleGranted(), deployment.deploymentBlock)),
      ...(await c.queryFilter(c.filters.RoleRevoked(), deployment.deploymentBlock)),
    ]
    for (const log of logs) {
      const role = String(log.args.role)
      // A role id the contract does not declare would be listed by its id: nothing escapes the list.
      if (!ids.has(role)) ids.set(role, role)
      const set = candidates.get(role) ?? new Set<string>()
      set.add(getAddress(String(log.args.account)))
      candidates.set(role, set)
    }
    for (const [id, name] of ids) {
      const holders: string[] = []
      for (const a of candidates.get(id) ?? []) if ((await c.hasRole(id, a)) as boolean) holders.push(a)
      if (holders.length === 0) out.push({ contract, role: name, holder: ZeroAddress, kind: "none" })
      for (const h of holders.sort()) out.push({ contract, role: name, holder: h, kind: await kindOf(h) })
    }
  }
  for (const [contract, getters] of Object.entries(SINGLE_ROLES) as Array<[ContractName, readonly string[]]>) {
    const c: Any = new Contract(deployment.contracts[contract], getters.map((g) => `function ${g}() view returns (address)`), provider)
    for (const g of getters) {
      const holder = getAddress(String(await c[g]()))
      out.push({ contract, role: g, holder, kind: await kindOf(holder) })
    }
  }
  return out
}

/** The roles held by externally owned accounts (after `dai chain deploy`: none but a guardian the deploy was told to name). */
export const rolesHeldByAccounts = (roles: readonly RoleHolder[]): RoleHolder[] => roles.filter((r) => r.kind === "account")
