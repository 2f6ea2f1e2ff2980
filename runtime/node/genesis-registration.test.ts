/**
 * Genesis registration at a node's first start on a chain (Hardhat in-process, the contracts as `dai
 * chain deploy` installs them, nobody registered): an unfunded genesis validator is refused in one
 * line naming its address, the DAI it needs and `dai chain fund`, with nothing registered; funded,
 * each registers itself and waits (naming those still missing) until all are, and the Committee's
 * snapshot 1 then holds every genesis validator with its fee deposit; a waiting node stops when
 * told to; a later start finds snapshot 1 and does nothing. A node killed between the two
 * transactions of its registration (the deposit, then the stake) finishes at its restart without
 * depositing twice; one registered without a deposit (an earlier version's order) makes it.
 */
import { Effect } from "effect"
import { Wallet } from "ethers"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connectInProcess } from "../../contracts/deploy/build.ts"
import { defaultTreasury, deployContracts, devnetAllocations } from "../../contracts/deploy/deploy.ts"
import { fundAccount } from "../../contracts/deploy/fund.ts"
import { makeEvmChain, type EvmChain } from "../adapters/evm/chain.ts"
import type { Deployment } from "../adapters/evm/deployment.ts"
import { GENESIS_SNAPSHOT, type GenesisValidator } from "../core/app/app.ts"
import { GENESIS_FEE_DEPOSIT } from "../core/app/ledger-genesis.ts"
import { DEFAULT_PARAMS } from "../core/params.ts"
import { TOKEN, WAD } from "../core/units.ts"
import { ensureGenesisRegistration, unregistered, type GenesisRegistrationOptions } from "./genesis-registration.ts"

type Any = any // hardhat-ethers objects

describe("genesis registration on a chain", () => {
  let connection: Any
  let deployment: Deployment
  const chains: EvmChain[] = []
  // Fixed keys (they protect nothing): three genesis validators and a follower.
  const wallets = [1, 2, 3].map((i) => new Wallet(`0x${i.toString(16).padStart(64, "5")}`))
  const follower = new Wallet(`0x${"6".repeat(64)}`)
  const validators: GenesisValidator[] = wallets.map((w, i) => ({ operator: `node${i + 1}`, address: w.address.toLowerCase(), amount: 10_000n * TOKEN, tier: 30, commission: WAD / 20n }))
  const accounts = Object.fromEntries(validators.map((v) => [v.operator, v.address]))

  /** The chain as node-chain.ts makes it for the node of `key`: every genesis validator named, only its own account signed for. */
  const chainOf = (key: string): EvmChain => {
    const own = new Wallet(key, connection.ethers.provider)
    const operator = validators.find((v) => v.address === own.address.toLowerCase())?.operator
    const chain = makeEvmChain({
      provider: connection.ethers.provider, deployment, params: DEFAULT_PARAMS, accounts,
      signerFor: (account) => (account === operator || account.toLowerCase() === own.address.toLowerCase() ? own : undefined),
    })
    chains.push(chain)
    return chain
  }
  const optionsFor = (key: string, log: string[], stop?: AbortSignal): GenesisRegistrationOptions => {
    const chain = chainOf(key)
    return {
      chain, validators, self: new Wallet(key).address, fundHint: "dai chain fund --rpc URL --deployment FILE --to DIR",
      gasBalance: (address) => Effect.promise(() => chain.provider.getBalance(address)),
      log: (_level, message) => void log.push(message), pollMs: 20, logEveryMs: 0, ...(stop === undefined ? {} : { stop }),
    }
  }

  beforeAll(async () => {
    connection = await connectInProcess()
    const signers: Any[] = await connection.ethers.getSigners()
    const addresses: string[] = await Promise.all(signers.slice(0, 10).map((s) => s.getAddress()))
    deployment = await deployContracts({ deployer: signers[0], allocations: devnetAllocations(addresses), network: "in-process", dryRun: true, treasury: defaultTreasury(addresses.slice(1)) })
  }, 120_000)
  afterAll(async () => {
    for (const c of chains) await c.close()
    await connection?.close()
  })

  it("refuses an unfunded genesis validator in one line (address, DAI needed, dai chain fund), registering nothing", async () => {
    const r = await Effect.runPromise(Effect.result(ensureGenesisRegistration(optionsFor(wallets[0]!.privateKey, []))))
    expect(r._tag).toBe("Failure")
    const message = r._tag === "Failure" ? r.failure.message : ""
    expect(message.split("\n")).toHaveLength(1)
    expect(message).toBe(`genesis validator node1 (${validators[0]!.address}) holds 0 DAI on the chain, needs 10,000 DAI to bond its genesis stake (10,100 with its fee deposit): send them with \`dai chain fund --rpc URL --deployment FILE --to DIR --dai 10100\``)
    // DAI but no gas: named as well.
    const signers: Any[] = await connection.ethers.getSigners()
    await fundAccount(signers[0], deployment.contracts.DAIToken, wallets[0]!.address, { eth: 0n, dai: 10_100n * TOKEN })
    const noGas = await Effect.runPromise(Effect.result(ensureGenesisRegistration(optionsFor(wallets[0]!.privateKey, []))))
    expect(noGas._tag === "Failure" ? noGas.failure.message : "").toMatch(/^genesis validator node1 \(0x[0-9a-f]{40}\) holds no ETH on the chain to pay the gas of its registration on Staking: send some with `dai chain fund/)
    expect(await Effect.runPromise(unregistered(chainOf(wallets[0]!.privateKey), validators))).toEqual(validators)
  })

  it("funded, each registers itself, waits for the others, and snapshot 1 holds every genesis validator", { timeout: 60_000 }, async () => {
    const signers: Any[] = await connection.ethers.getSigners()
    await fundAccount(signers[0], deployment.contracts.DAIToken, wallets[0]!.address, { eth: TOKEN, dai: 0n })
    for (const w of wallets.slice(1)) await fundAccount(signers[0], deployment.contracts.DAIToken, w.address, { eth: TOKEN, dai: 10_100n * TOKEN })

    // Two validators and a follower start first: they wait, naming the validator still missing.
    const logs: string[][] = [[], [], []]
    const stopFollower = new AbortController()
    const first = [0, 1].map((i) => Effect.runPromise(ensureGenesisRegistration(optionsFor(wallets[i]!.privateKey, logs[i]!))))
    const waiting = Effect.runPromise(Effect.result(ensureGenesisRegistration(optionsFor(follower.privateKey, logs[2]!, stopFollower.signal))))
    const missing = `waiting for 1 genesis validator to register on Staking (each does at its node's first start, once funded): node3 (${validators[2]!.address})`
    await expect.poll(() => logs[0]!.includes(missing) && logs[1]!.includes(missing) && logs[2]!.some((l) => l.includes("node3")), { timeout: 30_000, interval: 50 }).toBe(true)
    stopFollower.abort("SIGTERM")
    const stopped = await waiting
    expect(stopped._tag === "Failure" ? stopped.failure.message : "").toBe("stopped (SIGTERM) while waiting for the genesis validators to register on Staking")

    const last = await Effect.runPromise(ensureGenesisRegistration(optionsFor(wallets[2]!.privateKey, [])))
    const outcomes = [...(await Promise.all(first)), last]
    expect(outcomes.map((o) => o.registered)).toEqual([true, true, true])
    // Whoever took snapshot 1, it holds every genesis validator, each signing with its own key.
    expect(outcomes.some((o) => o.snapshot === GENESIS_SNAPSHOT)).toBe(true)
    const chain = chainOf(follower.privateKey)
    const s = await Effect.runPromise(chain.committee(GENESIS_SNAPSHOT))
    expect(s?.validators.map((v) => [v.operator, v.signingKey, v.stake]).sort()).toEqual(validators.map((v) => [v.operator, v.address, v.amount]))
    for (const v of validators) expect(await Effect.runPromise(chain.feeDeposit(v.operator))).toBe(GENESIS_FEE_DEPOSIT)

    // A later start (a restart) finds snapshot 1 and does nothing.
    expect(await Effect.runPromise(ensureGenesisRegistration(optionsFor(wallets[0]!.privateKey, [])))).toEqual({ registered: false, snapshot: undefined })
  })

  it("a node killed between its fee deposit and its registration, or registered without a deposit, completes at its restart", { timeout: 60_000 }, async () => {
    // A network of its own: fresh contracts, the three validators funded.
    const signers: Any[] = await connection.ethers.getSigners()
    const addresses: string[] = await Promise.all(signers.slice(0, 10).map((s) => s.getAddress()))
    deployment = await deployContracts({ deployer: signers[0], allocations: devnetAllocations(addresses), network: "in-process", dryRun: true, treasury: defaultTreasury(addresses.slice(1)) })
    for (const w of wallets) await fundAccount(signers[0], deployment.contracts.DAIToken, w.address, { eth: TOKEN, dai: 10_100n * TOKEN })
    const [node1, node2] = [chainOf(wallets[0]!.privateKey), chainOf(wallets[1]!.privateKey)]
    // node1 was killed after its first transaction (the deposit); node2 ran an earlier version's order and was killed after registering.
    await Effect.runPromise(node1.depositFees("node1", GENESIS_FEE_DEPOSIT))
    const v2 = validators[1]!
    await Effect.runPromise(node2.submit({ type: "registerValidator", operator: v2.operator, amount: v2.amount, tier: v2.tier, commission: v2.commission }))
    expect(await Effect.runPromise(unregistered(node1, validators))).toEqual([validators[0], validators[2]])

    // node3 starts (and waits for node1), node1 restarts (it only registers); snapshot 1 is taken.
    const third = Effect.runPromise(ensureGenesisRegistration(optionsFor(wallets[2]!.privateKey, [])))
    const restarted1 = await Effect.runPromise(ensureGenesisRegistration(optionsFor(wallets[0]!.privateKey, [])))
    expect(restarted1.registered).toBe(true)
    expect((await third).registered).toBe(true)
    const s = await Effect.runPromise(node1.committee(GENESIS_SNAPSHOT))
    expect(s?.validators.map((v) => v.operator).sort()).toEqual(["node1", "node2", "node3"])
    expect(await Effect.runPromise(node1.feeDeposit("node2"))).toBe(0n)

    // node2 restarts after snapshot 1 was taken: its missing deposit is made all the same.
    const logs: string[] = []
    expect(await Effect.runPromise(ensureGenesisRegistration(optionsFor(wallets[1]!.privateKey, logs)))).toEqual({ registered: false, snapshot: undefined })
    expect(logs).toEqual([`made the fee deposit of genesis validator node2 (${v2.address}) on the Committee, missing since its registration`])
    // Each holds one genesis fee deposit, none missing, none twice: it paid its stake and that deposit.
    for (const v of validators) {
      expect(await Effect.runPromise(node1.feeDeposit(v.operator))).toBe(GENESIS_FEE_DEPOSIT)
      expect(await Effect.runPromise(node1.balanceOf(v.operator))).toBe(10_100n * TOKEN - v.amount - GENESIS_FEE_DEPOSIT)
    }
    // A further restart changes nothing.
    expect(await Effect.runPromise(ensureGenesisRegistration(optionsFor(wallets[1]!.privateKey, [])))).toEqual({ registered: false, snapshot: undefined })
    expect(await Effect.runPromise(node1.feeDeposit("node2"))).toBe(GENESIS_FEE_DEPOSIT)
  })
})
