/**
 * The EVM Chain adapter on Hardhat's in-process chain: the Chain compliance suite, receipt and view
 * parity with the TS economy op for op, double-sign evidence, and the failures that are not rules.
 */
import { createServer, type Socket } from "node:net"
import { Effect, Result } from "effect"
import {
  AbstractSigner, Contract, Interface, keccak256, solidityPackedKeccak256, toUtf8Bytes, Wallet, type Fragment, type Provider, type Signer, type TransactionRequest,
} from "ethers"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { loadArtifact } from "../../../contracts/deploy/deploy.ts"
import {
  Economy, FOREVER, StakingInfractionAlreadySlashed, StakingInvalidEvidence, StakingSigningKeyInUse, TokenInvalidAddress, type EconOp,
} from "../../core/econ/index.ts"
import { ACTORS, RESERVE, testAllocations } from "../../core/econ/testkit.ts"
import { TOKEN, toWad, WAD } from "../../core/units.ts"
import { chainSuite } from "../../services/compliance/chain/index.ts"
import { testSetup } from "../../services/compliance/test-setup.ts"
import { Chain, ChainUnavailable } from "../../services/chain.ts"
import { ABIS, STAKING_ABI } from "./abi.ts"
import { decodeDeployment, paramRegistryHash } from "./deployment.ts"
import { toChainError } from "./errors.ts"
import { accountBook } from "./accounts.ts"
import { layerEvmChain, makeEvmChain, type SignedVote } from "./chain.ts"
import { gasWithHeadroom } from "./gas.ts"
import { evmWorld, type EvmWorld } from "./test-harness.ts"

/** AccessControl's DEFAULT_ADMIN_ROLE. */
const ZERO_ROLE = `0x${"0".repeat(64)}`
const run = <A, E>(e: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(e)
const fail = <A, E>(e: Effect.Effect<A, E>): Promise<E> => Effect.runPromise(Effect.flip(e))

let world: EvmWorld
beforeAll(async () => {
  world = await evmWorld()
})
afterAll(async () => {
  await world.close()
})

chainSuite("EVM contracts on Hardhat's in-process chain", testSetup(async (_, cleanup) => {
  await world.reset()
  const chain = world.chain()
  cleanup(() => chain.close())
  return { chain, params: world.params, advance: world.advance }
}))

describe("EVM Chain adapter", () => {
  beforeEach(async () => {
    await world.reset()
  })

  it("uses ABI fragments that match the compiled contracts (selectors, topics, output types)", async () => {
    for (const [name, fragments] of Object.entries(ABIS)) {
      const mine = new Interface(fragments)
      const compiled = new Interface((await loadArtifact(name as keyof typeof ABIS)).abi as never)
      const sig = (f: Fragment) => f.format("sighash")
      mine.forEachFunction((f) => {
        const c = compiled.getFunction(f.selector)
        expect(c, `${name}.${sig(f)}`).not.toBeNull()
        expect(c!.outputs.map((o) => o.format("sighash")), `${name}.${sig(f)} outputs`).toEqual(f.outputs.map((o) => o.format("sighash")))
      })
      mine.forEachEvent((e) => {
        const c = compiled.getEvent(e.topicHash)
        expect(c, `${name} event ${sig(e)}`).not.toBeNull()
        expect(c!.inputs.map((i) => i.indexed === true), `${name} event ${sig(e)} indexed`).toEqual(e.inputs.map((i) => i.indexed === true))
      })
      mine.forEachError((e) => {
        // OpenZeppelin's errors are inherited; only those of the contract's own hierarchy are in its ABI.
        if (compiled.getError(e.selector) === null && !/^(ERC20|AccessControl|ReentrancyGuard|SafeERC20)/.test(e.name)) {
          throw new Error(`${name} has no error ${sig(e)}`)
        }
      })
    }
  })

  it("records a wired deployment: roles, governance, the registry hash; the file decodes", async () => {
    const d = world.deployment
    const gov = d.contracts.Governance
    const at = (name: keyof typeof d.contracts, abi: string[]) => new world.ethers.Contract(d.contracts[name], abi, world.ethers.provider)
    const staking = at("Staking", ["function hasRole(bytes32,address) view returns (bool)", "function PARAMS_ROLE() view returns (bytes32)", "function COMMITTEE_ROLE() view returns (bytes32)"])
    expect(await staking.hasRole(await staking.PARAMS_ROLE(), gov)).toBe(true)
    expect(await staking.hasRole(ZERO_ROLE, gov)).toBe(true)
    expect(await staking.hasRole(ZERO_ROLE, d.deployer)).toBe(false)
    expect(await staking.hasRole(await staking.COMMITTEE_ROLE(), d.contracts.Committee)).toBe(true)
    expect(d.roles.holders.filter((h) => h.kind === "account")).toEqual([])
    expect(d.roles.holders.filter((h) => h.holder === d.deployer)).toEqual([])
    for (const name of ["DAIToken", "Constitution", "Treasury"] as const) expect(await at(name, ["function governance() view returns (address)"]).governance(), name).toBe(gov)
    expect(d.paramRegistryHash).toBe(paramRegistryHash())
    // governance.quadratic goes into Governance at deployment (the registry default: linear votes),
    // and the adapter reports the contract's value whatever its own base parameters say.
    expect(await at("Governance", ["function quadratic() view returns (bool)"]).quadratic()).toBe(world.params["governance.quadratic"])
    expect(world.params["governance.quadratic"]).toBe(false)
    const other = world.chain({ params: { ...world.params, "governance.quadratic": true } })
    expect((await run(other.params))["governance.quadratic"]).toBe(false)
    expect(d.genesis.map((g) => BigInt(g.amount))).toEqual(testAllocations().map((a) => a.amount))
    const decoded = decodeDeployment(JSON.parse(JSON.stringify(d)))
    expect(Result.isSuccess(decoded)).toBe(true)
    const bad = decodeDeployment({ ...JSON.parse(JSON.stringify(d)), contracts: { ...d.contracts, Staking: "0x12" } }, "x.json")
    expect(Result.isFailure(bad) && bad.failure.message).toMatch(/x\.json: contracts\.Staking: a 0x address/)
  })

  it("gives the same receipts, errors and views as the TS economy for the same ops at the same times", async () => {
    const chain = world.chain()
    const economy = Result.getOrThrow(Economy.genesis(testAllocations(), world.params, await run(chain.now)))
    type Step = EconOp | ((e: Economy) => EconOp) | { readonly advance: number }
    const t = (n: bigint) => n * TOKEN
    const steps: Step[] = [
      { type: "registerValidator", operator: "v0", amount: t(10_000n), tier: 30, commission: WAD / 20n },
      { type: "registerValidator", operator: "v1", amount: t(5_000n), tier: 0, commission: WAD / 10n },
      { type: "bondContributor", owner: "c0", amount: t(500n), tier: 90 },
      { type: "bondContributor", owner: "c0", amount: t(200n), tier: 0 },
      { type: "delegate", owner: "d0", validator: "v0", amount: t(3_000n), tier: 0 },
      { type: "delegate", owner: "d1", validator: "v1", amount: t(7_000n), tier: 180 },
      { type: "fundRewards", from: RESERVE, amount: t(50_000n) + 3n },
      { type: "payFee", payer: "d2", amount: t(1_000n) + 1n },
      { advance: 1_000 },
      { type: "unbond", owner: "d0", position: 5, amount: t(1_000n) },
      { type: "claimRewards", owner: "d1" },
      { type: "claimRewards", owner: "d0" },
      { type: "unjail", operator: "v0" },
      { type: "delegate", owner: "d2", validator: "v0", amount: t(1n), tier: 0 },
      { advance: world.params["slashing.downtimeJailDuration"] },
      { type: "unjail", operator: "v0" },
      { type: "transfer", from: "d2", to: "d1", amount: t(5n) },
      { type: "burn", from: "d2", amount: 1n },
      { type: "unbond", owner: "d1", position: 6, amount: t(1n) },
      { type: "withdraw", owner: "d0" },
      { type: "fundRewards", from: RESERVE, amount: t(1_234n) },
      { advance: world.params["staking.unbondingPeriod"] },
      { type: "withdraw", owner: "d0" },
      { type: "unbond", owner: "c0", position: 4, amount: t(200n) },
      { type: "claimRewards", owner: "c0" },
      { type: "claimRewards", owner: "v0" },
      { type: "unbond", owner: "v1", position: 2, amount: t(5_000n) },
    ]
    // A refusal's `now` is the pending block's time on chain; everything else must be equal.
    const comparable = (r: Result.Result<unknown, { readonly _tag: string }>) =>
      Result.isSuccess(r) ? { ok: r.success } : { error: { ...r.failure, now: undefined, _tag: r.failure._tag } }
    let refusals = 0
    for (const step of steps) {
      if ("advance" in step) {
        await world.advance(step.advance)
        continue
      }
      const op = typeof step === "function" ? step(economy) : step
      const onChain = await run(Effect.result(chain.submit(op)))
      const sim = economy.apply(op, await run(chain.now))
      if (Result.isFailure(onChain)) refusals++
      expect(comparable(onChain), op.type).toEqual(comparable(sim))
    }
    expect(refusals).toBe(4) // unjail early, delegate to the jailed pool, a locked unbond, an immature withdraw

    const owners = [...ACTORS, "admin"]
    expect(await run(chain.supply)).toEqual(economy.supply())
    expect(await run(chain.pools)).toEqual(economy.pools())
    expect(await run(chain.positions())).toEqual(economy.positions())
    expect(await run(chain.unbonding())).toEqual(economy.unbonding())
    for (const a of owners) {
      expect(await run(chain.balanceOf(a)), a).toBe(economy.balanceOf(a))
      expect(await run(chain.pendingRewards(a)), a).toEqual(economy.pendingRewards(a))
      expect(await run(chain.positions(a)), a).toEqual(economy.positions(a))
      expect(await run(chain.unbonding(a)), a).toEqual(economy.unbonding(a))
    }
  })

  it("lands a transaction whose gas grows when it is mined a second after its estimate (a new stake checkpoint)", async () => {
    const provider = world.ethers.provider
    const latest = async () => Number((await provider.getBlock("latest")).timestamp)
    const pin = async (t: number) => provider.send("evm_setNextBlockTimestamp", [t])
    /** Estimates in the second of the latest block; its transactions are mined one second later. */
    class SecondLater extends AbstractSigner {
      readonly inner: Signer
      constructor(inner: Signer) {
        super(inner.provider)
        this.inner = inner
      }
      override connect(p: Provider | null): Signer { return new SecondLater(this.inner.connect(p)) }
      override getAddress() { return this.inner.getAddress() }
      override async estimateGas(tx: TransactionRequest) {
        await pin(await latest())
        return this.inner.estimateGas(tx)
      }
      override async sendTransaction(tx: TransactionRequest) {
        await pin((await latest()) + 1)
        return this.inner.sendTransaction(tx)
      }
      override signTransaction(tx: TransactionRequest) { return this.inner.signTransaction(tx) }
      override signMessage(m: string | Uint8Array) { return this.inner.signMessage(m) }
      override signTypedData(...a: Parameters<Signer["signTypedData"]>) { return this.inner.signTypedData(...a) }
    }
    const { Staking, DAIToken } = world.deployment.contracts
    const amount = 1_000n * TOKEN
    for (const who of ["d0", "d1"]) await (await new Contract(DAIToken, ["function approve(address,uint256) returns (bool)"], world.signers[who]).getFunction("approve")(Staking, amount)).wait()
    await run(world.chain().submit({ type: "registerValidator", operator: "v0", amount: 10_000n * TOKEN, tier: 0, commission: 0n }))

    const chain = world.chain({ signerFor: (id) => (id === "d0" ? new SecondLater(world.signers.d0!) : world.signers[id]) })
    const d = await run(chain.submit({ type: "delegate", owner: "d0", validator: "v0", amount, tier: 0 }))
    expect(d).toMatchObject({ owner: "d0", pool: "v0", amount, shares: amount })
    const [pool] = await run(chain.pools)
    expect(pool!.checkpoints.map((c) => c.tokens)).toEqual([10_000n * TOKEN, 11_000n * TOKEN])
    expect(pool!.checkpoints[1]!.time - pool!.checkpoints[0]!.time).toBeGreaterThanOrEqual(1_000)

    // The condition itself: the same call with its estimate as the exact limit runs out of gas.
    const staking = new Contract(Staking, ["function delegate(uint256 pool, uint256 amount, uint256 tier) returns (uint256)"], new SecondLater(world.signers.d1!))
    const estimate: bigint = await staking.getFunction("delegate").estimateGas(BigInt(world.accounts.v0!), amount, 0)
    await expect((async () => (await staking.getFunction("delegate")(BigInt(world.accounts.v0!), amount, 0, { gasLimit: estimate })).wait())()).rejects.toThrow(/out of gas/)
    expect(gasWithHeadroom(estimate) - estimate).toBeGreaterThan(22_100n) // at least a new storage slot
  })

  it("slashes a double sign with the two signed votes; as an evidence id alone it is refused", async () => {
    const key = new Wallet(keccak256(toUtf8Bytes("dai-test-signing-key:v2")))
    const chain = world.chain({ signingKeyFor: (id) => (id === "v2" ? key.address : undefined) })
    await run(chain.submit({ type: "registerValidator", operator: "v2", amount: 20_000n * TOKEN, tier: 0, commission: 0n }))
    await run(chain.submit({ type: "delegate", owner: "d0", validator: "v2", amount: 10_000n * TOKEN, tier: 0 }))
    const chainId = BigInt(world.deployment.consensusChainId)
    const vote = (blockHash: string): SignedVote => {
      const digest = solidityPackedKeccak256(["string", "uint256", "uint256", "uint256", "uint8", "bytes32"], ["dai/vote/v1", chainId, 9n, 0n, 1, blockHash])
      return { chainId, height: 9n, round: 0n, voteType: 1, blockHash, signature: key.signingKey.sign(digest).serialized }
    }
    const [a, b] = [vote(keccak256(toUtf8Bytes("block-a"))), vote(keccak256(toUtf8Bytes("block-b")))]

    expect(await fail(chain.submit({ type: "slash", pool: "v2", infraction: "doubleSign", infractionTime: 0, evidenceId: "e1" }))).toBeInstanceOf(StakingInvalidEvidence)
    const s = await run(chain.slashDoubleSign(a, b, "d1"))
    const fraction = toWad(world.params["slashing.doubleSignFraction"])
    expect(s).toMatchObject({
      type: "slash", pool: "v2", operator: "v2", infraction: "doubleSign", fraction, stakeAtInfraction: 30_000n * TOKEN,
      slashedBonded: (30_000n * TOKEN * fraction) / WAD, tombstoned: true, jailedUntil: FOREVER,
    })
    expect(s.evidenceId).toMatch(/^0x[0-9a-f]{64}$/)
    expect(await fail(chain.slashDoubleSign(a, b, "d1"))).toEqual(new StakingInfractionAlreadySlashed({ evidenceId: s.evidenceId }))
    const [pool] = await run(chain.pools)
    expect(pool).toMatchObject({ id: "v2", tombstoned: true, jailed: true, jailedUntil: FOREVER })
    expect((await run(chain.pendingRewards("d0"))).insurance).toBeGreaterThan(0n)
  })

  it("maps what is not a rule to ChainUnavailable, and an account with no address to TokenInvalidAddress", async () => {
    const shared = world.accounts.admin!
    const chain = world.chain({ signingKeyFor: () => shared })
    await run(chain.submit({ type: "registerValidator", operator: "v0", amount: 1_000n * TOKEN, tier: 0, commission: 0n }))
    const before = await run(chain.balanceOf("v1"))
    // A signing key another validator holds: the economy's error of the same name (it has one since validators register their keys there too).
    const inUse = await fail(chain.submit({ type: "registerValidator", operator: "v1", amount: 1_000n * TOKEN, tier: 0, commission: 0n }))
    expect(inUse).toEqual(new StakingSigningKeyInUse({ key: shared.toLowerCase(), operator: "v0" }))
    expect(await run(chain.balanceOf("v1"))).toBe(before)
    // A contract-only rule (a missing role) has no economy twin: ChainUnavailable, naming the error.
    const role = toChainError("x", { data: new Interface(STAKING_ABI).encodeErrorResult("AccessControlUnauthorizedAccount", [shared, ZERO_ROLE]) }, accountBook({}))
    expect(role).toBeInstanceOf(ChainUnavailable)
    expect((role as ChainUnavailable).reason).toMatch(/AccessControlUnauthorizedAccount\(account=0x[0-9a-fA-F]{40}, neededRole=0x0{64}\)/)

    const noKeys = world.chain({ signerFor: () => undefined })
    const unsigned = await fail(noKeys.submit({ type: "transfer", from: "d0", to: "d1", amount: TOKEN }))
    expect(unsigned).toBeInstanceOf(ChainUnavailable)
    expect((unsigned as ChainUnavailable).reason).toMatch(/no signer for account "d0"/)

    expect(await fail(chain.submit({ type: "transfer", from: "d0", to: "stranger", amount: TOKEN }))).toEqual(new TokenInvalidAddress({ role: "recipient", address: "stranger" }))
    const raw = Wallet.createRandom().address
    await run(chain.submit({ type: "transfer", from: "d0", to: raw, amount: TOKEN }))
    expect(await run(chain.balanceOf(raw))).toBe(TOKEN)
    expect(await run(chain.balanceOf(raw.toLowerCase()))).toBe(TOKEN)

    // Downtime has no slash op on chain: it settles through epoch reports signed by 2/3 of the voting power.
    const downtime = await fail(chain.submit({ type: "slash", pool: "v0", infraction: "downtime", infractionTime: 0, evidenceId: "x" }))
    expect(downtime).toBeInstanceOf(StakingInvalidEvidence)
    expect((downtime as StakingInvalidEvidence).reason).toMatch(/downtime settles through epoch reports signed by 2\/3 of the voting power/)
    expect((await run(chain.pools)).find((p) => p.id === "v0")).toMatchObject({ jailed: false })
  })

  it("reports an unreachable RPC as ChainUnavailable, for queries and operations", async () => {
    const chain = makeEvmChain({ rpcUrl: "http://127.0.0.1:9", deployment: world.deployment, signerFor: () => Wallet.createRandom(), timeoutMs: 5_000 })
    try {
      const q = await fail(chain.supply)
      expect(q).toBeInstanceOf(ChainUnavailable)
      expect(q.operation).toBe("supply")
      expect(q.reason).toMatch(/ECONNREFUSED.*\(at http:\/\/127\.0\.0\.1:9\)$/)
      const op = await fail(chain.submit({ type: "transfer", from: world.accounts.d0!, to: world.accounts.d1!, amount: TOKEN }))
      expect(op).toBeInstanceOf(ChainUnavailable)
    } finally {
      await chain.close()
    }
    // A node that accepts connections and never answers: the operation times out.
    const sockets: Socket[] = []
    const silent = createServer((s) => void sockets.push(s))
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r))
    const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}`
    const slow = makeEvmChain({ rpcUrl: url, deployment: world.deployment, signerFor: () => undefined, timeoutMs: 300 })
    try {
      expect(await fail(slow.balanceOf(world.accounts.d0!))).toEqual(new ChainUnavailable({ operation: "balanceOf", reason: `no answer from ${url} within 300 ms` }))
    } finally {
      await slow.close()
      for (const s of sockets) s.destroy()
      await new Promise((r) => silent.close(r))
    }
  })

  it("is provided as a layer, and refuses an ambiguous account map", async () => {
    const program = Effect.gen(function* () {
      const chain = yield* Chain
      return yield* chain.balanceOf("d0")
    })
    const layer = layerEvmChain({ provider: world.ethers.provider, deployment: world.deployment, accounts: world.accounts, signerFor: () => undefined })
    expect(await Effect.runPromise(program.pipe(Effect.provide(layer)))).toBe(1_000_000n * TOKEN)
    expect(() => accountBook({ a: world.accounts.d0!, b: world.accounts.d0!.toLowerCase() })).toThrow(/both map to/)
    expect(() => accountBook({ a: "0x12" })).toThrow(/not a 0x address/)
    const book = accountBook(world.accounts)
    expect(book.poolName(book.poolIdOf("contrib:c0")!)).toBe("contrib:c0")
    expect(book.poolIdOf("stranger")).toBeUndefined()
  })
})
