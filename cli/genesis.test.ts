/**
 * `dai genesis …` as an operator meets it: a genesis built from `dai node init` identities for
 * validators on separate machines, with the chain deployment in it, installed into each data dir;
 * and every bad file or value refused in one line naming the file, the key and the reason (exit 2),
 * with nothing written.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Result } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startHardhatNode, type HardhatNode } from "../contracts/deploy/test-node.ts"
import { CONTRACT_NAMES, DEPLOYMENT_FORMAT, paramRegistryHash, type Deployment } from "../runtime/adapters/evm/deployment.ts"
import { TOTAL_SUPPLY } from "../runtime/core/units.ts"
import { readConfig } from "../runtime/node/config.ts"
import { readGenesis } from "../runtime/node/genesis-file.ts"
import { runCaptured as dai } from "./dai.ts"

const dir = mkdtempSync(join(tmpdir(), "dai-genesis-cli-"))
const password = join(dir, "password")
writeFileSync(password, "a test password, long enough\n")
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/**
 * A deployment record as `dai chain deploy --rpc` writes it (typed against its schema, so a change of
 * the format shows here): only read by the refusals below, never dialled.
 */
const address = (n: number) => `0x${n.toString(16).padStart(40, "0")}`
const DEPLOYMENT: Deployment = {
  format: DEPLOYMENT_FORMAT, chainId: "31337", network: "http://127.0.0.1:8545", dryRun: false, deployer: address(1),
  deploymentBlock: 1, deployedAt: 1_796_000_000,
  contracts: Object.fromEntries(CONTRACT_NAMES.map((n, i) => [n, address(0x100 + i)])) as Deployment["contracts"],
  paramRegistryHash: paramRegistryHash(), constitutionHash: `0x${"ab".repeat(32)}`, consensusChainId: "7",
  roles: { governance: address(0x103), guardian: address(0), guardianExpiry: 0, holders: [] },
  treasury: { signers: [address(2), address(3)], threshold: 2, funded: "0" },
  committee: { rewardReserve: "0" },
  contributionRegistry: { genesis: 0, epochLength: 3_600, commitWindow: 600 },
  genesis: [],
}

/** A data dir with a cheap keystore, listening on a fixed loopback port (these keys protect nothing). */
const init = (name: string, port: number, ...flags: string[]) =>
  dai("node", "init", "--data-dir", join(dir, name), "--password-file", password, "--scrypt-n", "2", "--api-port", "0", "--listen", `/ip4/127.0.0.1/tcp/${port}`, ...flags)
const identity = (name: string) => JSON.parse(readFileSync(join(dir, name, "identity.json"), "utf8")) as { name: string; address: string; peerId: string; addrs: string[] }

/** One line on stderr, exit 2, naming what is wrong. */
const refused = (r: { code: number; out: string; err: string }, pattern: RegExp) => {
  expect(r.code, r.err).toBe(2)
  expect(r.out).toBe("")
  expect(r.err.trimEnd().split("\n"), r.err).toHaveLength(1)
  expect(r.err).toMatch(pattern)
}

describe("dai genesis: a multi-validator genesis from node identities", () => {
  const g = join(dir, "genesis.json")
  // The real network's contracts, on a Hardhat node on 127.0.0.1: the devnet constitution with short
  // governance periods and a consensus parameter set at deploy, which the genesis reads back.
  const deployment = join(dir, "deployment.json")
  const fake = join(dir, "fake-deployment.json")
  writeFileSync(fake, JSON.stringify(DEPLOYMENT))
  let node: HardhatNode | undefined
  let url: string
  beforeAll(async () => {
    node = await startHardhatNode()
    url = node.url
    const r = await dai("chain", "deploy", "--rpc", url, "--out", deployment, "--constitution", "devnet", "--voting-period", "20s", "--timelock", "5s", "--param", "consensus.timeoutCommit=500ms")
    expect(r.code, r.err).toBe(0)
  }, 120_000)
  afterAll(async () => {
    await node?.close()
  })

  it("init exports each node's identity; new + add-validator build the genesis; show and validate check it", async () => {
    for (const [i, name] of ["alice", "bob", "carol"].entries()) expect((await init(name, 19_401 + i)).code).toBe(0)
    const alice = identity("alice")
    expect(alice).toMatchObject({ name: "alice", address: expect.stringMatching(/^0x[0-9a-f]{40}$/), peerId: expect.stringMatching(/^12D3KooW/) })
    expect(alice.addrs).toEqual([`/ip4/127.0.0.1/tcp/19401/p2p/${alice.peerId}`])

    const made = await dai("genesis", "new", g, "--deployment", deployment, "--rpc", url, "--param", "training.dataset=fashion-mnist")
    expect(made.code, made.err).toBe(0)
    expect(made.out).toMatch(/chain id 7, .*2 parameter overrides \(1 read from the chain's Constitution\)/)
    expect(made.out).toContain("on chain   governance.votingPeriod=20s, governance.timelock=5s (below the registry's floors: the Constitution's alone)")
    // The genesis says what the network runs with: the Constitution's value, and the non-numeric override.
    expect((await dai("genesis", "show", g)).out).toMatch(/^ {2}params +training\.dataset=fashion-mnist, consensus\.timeoutCommit=500ms$/m)
    // A draft: no validators yet, which `validate` (a node's check) refuses and `show` says.
    refused(await dai("genesis", "validate", g), /genesis\.json: validators: none: a network needs at least one genesis validator/)
    expect((await dai("genesis", "show", g)).out).toMatch(/no validators yet/)

    for (const name of ["alice", "bob"]) {
      const r = await dai("genesis", "add-validator", g, "--identity", join(dir, name), "--stake", "2000000", "--tier", "30")
      expect(r.code, r.err).toBe(0)
    }
    const carol = identity("carol")
    const byHand = await dai("genesis", "add-validator", g, "--name", "carol", "--address", carol.address, "--peer-id", carol.peerId, "--addr", carol.addrs[0]!, "--commission", "0.1")
    expect(byHand.code, byHand.err).toBe(0)

    const v = await dai("genesis", "validate", g)
    expect(v.code, v.err).toBe(0)
    expect(v.out).toMatch(/a valid genesis: chain id 7, 3 validators, the contracts on EVM chain 31337/)
    const show = await dai("genesis", "show", g)
    expect(show.out).toMatch(/^alice +0x[0-9a-f]{40} +2,000,000 +30d +0\.05 +12D3KooW/m)
    expect(show.out).toMatch(/^carol +0x[0-9a-f]{40} +1,000,000 +0d +0\.1 /m)

    const read = readGenesis(g)
    if (Result.isFailure(read)) throw new Error(read.failure.message)
    expect(read.success.validators.map((x) => x.operator)).toEqual(["alice", "bob", "carol"])
    expect(read.success.allocations.reduce((s, a) => s + a.amount, 0n)).toBe(TOTAL_SUPPLY)
    expect(read.success.network?.chain?.rpc).toBe(url)
    expect(read.success.params["consensus.timeoutCommit"]).toBe(500)
    expect(read.success.network?.peers.map((p) => p.addrs.length)).toEqual([1, 1, 1])
  })

  it("install puts it into each data dir: genesis, deployment, the others as bootstrap peers, the chain", async () => {
    const r = await dai("genesis", "install", g, "--data-dir", join(dir, "bob"))
    expect(r.code, r.err).toBe(0)
    expect(r.out).toMatch(/validator +bob \(0x/)
    expect(readFileSync(join(dir, "bob", "genesis.json"), "utf8")).toBe(`${JSON.stringify(JSON.parse(readFileSync(g, "utf8")), null, 2)}\n`)
    const config = readConfig(join(dir, "bob", "config.yaml"))
    if (Result.isFailure(config)) throw new Error(config.failure.message)
    expect(config.success.network.bootstrap).toEqual([...identity("alice").addrs, ...identity("carol").addrs])
    expect(config.success.chain).toEqual({ rpc: url, deployment: "deployment.json" })
    expect(JSON.parse(readFileSync(join(dir, "bob", "deployment.json"), "utf8"))).toEqual(JSON.parse(readFileSync(deployment, "utf8")))

    // A node made after the genesis takes it at init, with the same bootstrap peers and chain.
    const late = await init("dave", 19_404, "--genesis", g)
    expect(late.code, late.err).toBe(0)
    const dave = readConfig(join(dir, "dave", "config.yaml"))
    if (Result.isFailure(dave)) throw new Error(dave.failure.message)
    expect(dave.success.network.bootstrap).toHaveLength(3)
    expect(dave.success.chain.deployment).toBe("deployment.json")
    expect(existsSync(join(dir, "dave", "deployment.json"))).toBe(true)
  })

  it("refuses a bad file or value in one line naming the file, the key and the reason (exit 2), writing nothing", async () => {
    const before = readFileSync(g, "utf8")
    refused(await dai("genesis", "new", g), /^dai genesis new: .*genesis\.json exists already/)
    refused(await dai("genesis", "new", join(dir, "p.json"), "--param", "slashing.doubleSignFraction=2"), /--param: parameter slashing\.doubleSignFraction: 2 is outside the constitution's bounds/)
    refused(await dai("genesis", "new", join(dir, "c.json"), "--deployment", fake, "--chain-id", "9"), /--deployment .*fake-deployment\.json: consensusChainId: 7 is not the genesis chainId 9/)
    // With a chain, a numeric parameter is the Constitution's: refused, naming where it is set; a non-numeric one is not.
    refused(await dai("genesis", "new", join(dir, "n.json"), "--deployment", fake, "--param", "consensus.timeoutCommit=500ms"),
      /^dai genesis new: --param consensus\.timeoutCommit: the parameter is held by the chain's Constitution — set it at deploy with `dai chain deploy --param`, or change it by governance\n$/)
    expect(existsSync(join(dir, "p.json")) || existsSync(join(dir, "c.json")) || existsSync(join(dir, "n.json"))).toBe(false)
    const plain = await dai("genesis", "new", join(dir, "m.json"), "--deployment", fake, "--param", "training.model=cnn")
    expect(plain.code, plain.err).toBe(0)

    refused(await dai("genesis", "add-validator", g, "--identity", join(dir, "alice")), /genesis\.json: validators\.3\.operator: "alice" already has an allocation/)
    refused(await dai("genesis", "add-validator", g, "--identity", join(dir, "alice"), "--name", "alice2"), /genesis\.json: validators\.3\.address: 0x[0-9a-f]{40} is an earlier validator's address too/)
    refused(await dai("genesis", "add-validator", g, "--identity", join(dir, "dave"), "--stake", "10"), /genesis\.json: validators\.3: .*minValidatorBond|genesis\.json: validators\.3: .*bond/i)
    refused(await dai("genesis", "add-validator", g, "--identity", join(dir, "dave"), "--commission", "0.4"), /genesis\.json: validators\.3: .*commission/i)
    refused(await dai("genesis", "add-validator", g, "--identity", join(dir, "dave"), "--tier", "7"), /genesis\.json: validators\.3\.tier: 7 is not a lock tier/)
    refused(await dai("genesis", "add-validator", g, "--identity", join(dir, "nobody")), /--identity .*nobody.*cannot read it \(ENOENT\)/)
    expect(readFileSync(g, "utf8")).toBe(before)

    // A hand-edited file: the key and the reason.
    const bad = join(dir, "bad.json")
    const file = JSON.parse(before) as { validators: Array<Record<string, unknown>> } & Record<string, unknown>
    writeFileSync(bad, JSON.stringify({ ...file, extra: 1 }))
    refused(await dai("genesis", "validate", bad), /bad\.json: extra: unknown key/)
    writeFileSync(bad, JSON.stringify({ ...file, validators: file.validators.map((v, i) => (i === 1 ? { ...v, addrs: [`/ip4/127.0.0.1/tcp/1/p2p/${identity("carol").peerId}`] } : v)) }))
    refused(await dai("genesis", "show", bad), /bad\.json: validators\.1\.addrs\.0: ends in \/p2p\/12D3KooW\w+, not the validator's peer id/)
    writeFileSync(bad, "{ not json")
    refused(await dai("genesis", "add-validator", bad, "--identity", join(dir, "dave")), /bad\.json: not JSON/)

    // install: a broken genesis, and a data dir that has run, are refused; the data dir stays as it was.
    const aliceGenesis = readFileSync(join(dir, "alice", "genesis.json"), "utf8")
    refused(await dai("genesis", "install", bad, "--data-dir", join(dir, "alice")), /bad\.json: not JSON/)
    mkdirSync(join(dir, "ran"))
    expect((await init("ran", 19_405)).code).toBe(0)
    writeFileSync(join(dir, "ran", "store.db"), "")
    const ranConfig = readFileSync(join(dir, "ran", "config.yaml"), "utf8")
    refused(await dai("genesis", "install", g, "--data-dir", join(dir, "ran")), /store\.db: exists: this node has run on the genesis it has/)
    expect(readFileSync(join(dir, "ran", "config.yaml"), "utf8")).toBe(ranConfig)
    expect(readFileSync(join(dir, "alice", "genesis.json"), "utf8")).toBe(aliceGenesis)
  })
})
