/**
 * Account ids ↔ chain addresses, pool ids ↔ contract pool ids.
 *
 * The TS economy names accounts with any string ("v0", "reserve", "0xabc…"); the contracts know
 * only addresses. The adapter's `accounts` option maps ids to addresses; an id that is itself a
 * 0x address maps to itself. Going back, an address with an id is shown as that id, any other as
 * its checksummed address — so a node that names its accounts "v0"… reads the chain in those names.
 *
 * Pools (docs/contracts.md): a validator pool's id is uint256(operator); a contributor pool's id is
 * CONTRIBUTOR_FLAG | owner, standing for the TS "contrib:" + owner.
 */
import { getAddress } from "ethers"
import { CONTRIBUTOR_PREFIX } from "../../core/econ/index.ts"

export const CONTRIBUTOR_FLAG = 1n << 160n
const ADDRESS_MASK = (1n << 160n) - 1n
const HEX_ADDRESS = /^0x[0-9a-fA-F]{40}$/

/** The checksummed form of a 0x address, or undefined when `s` is not one. */
export const checksummed = (s: string): string | undefined => {
  if (!HEX_ADDRESS.test(s)) return undefined
  try {
    return getAddress(s)
  } catch {
    return undefined // a mixed-case address with a wrong checksum
  }
}

export interface AccountBook {
  /** The address of an account id, or undefined when the id is neither mapped nor an address. */
  addressOf(account: string): string | undefined
  /** The account id of an address (its mapped id, else the checksummed address). */
  accountOf(address: string): string
  /** The contract pool id of an economy pool id, or undefined when its account has no address. */
  poolIdOf(pool: string): bigint | undefined
  /** The economy pool id of a contract pool id. */
  poolName(id: bigint): string
}

/** An account book over `accounts` (id → address); throws on a bad address or two ids for one address. */
export const accountBook = (accounts: Readonly<Record<string, string>> = {}): AccountBook => {
  const byId = new Map<string, string>()
  const byAddress = new Map<string, string>()
  for (const [id, raw] of Object.entries(accounts)) {
    const address = checksummed(raw)
    if (address === undefined) throw new Error(`accounts: ${JSON.stringify(id)} maps to ${JSON.stringify(raw)}, which is not a 0x address`)
    const other = byAddress.get(address)
    if (other !== undefined && other !== id) throw new Error(`accounts: ${JSON.stringify(other)} and ${JSON.stringify(id)} both map to ${address}; one address, one id`)
    byId.set(id, address)
    byAddress.set(address, id)
  }
  const addressOf = (account: string) => byId.get(account) ?? checksummed(account)
  const accountOf = (address: string) => {
    const a = checksummed(address) ?? address
    return byAddress.get(a) ?? a
  }
  return {
    addressOf,
    accountOf,
    poolIdOf: (pool) => {
      const contributor = pool.startsWith(CONTRIBUTOR_PREFIX)
      const address = addressOf(contributor ? pool.slice(CONTRIBUTOR_PREFIX.length) : pool)
      if (address === undefined) return undefined
      return contributor ? CONTRIBUTOR_FLAG | BigInt(address) : BigInt(address)
    },
    poolName: (id) => {
      const owner = accountOf(`0x${(id & ADDRESS_MASK).toString(16).padStart(40, "0")}`)
      return (id & CONTRIBUTOR_FLAG) !== 0n ? CONTRIBUTOR_PREFIX + owner : owner
    },
  }
}
