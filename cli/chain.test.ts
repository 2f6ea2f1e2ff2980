/**
 * `dai chain deploy`: flags and exit codes, the in-process dry run, a real deploy over JSON-RPC to a
 * Hardhat node served on 127.0.0.1 (in this process, on a random free port), and the EVM adapter
 * reading that deployment through `rpcUrl`.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Result } from "effect"
import { HDNodeWallet } from "ethers"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freePort, startHardhatNode, type HardhatNode } from "../contracts/deploy/test-node.ts"
import { makeEvmChain } from "../runtime/adapters/evm/chain.ts"
import { decodeDeployment, type Deployment } from "../runtime/adapters/evm/deployment.ts"
import { TOKEN, TOTAL_SUPPLY } from "../runtime/core/units.ts"
import { DEPLOYER_KEY_ENV } from "./chain.ts"
import { runCaptured } from "./dai.ts"

const dai = runCaptured
const dir = mkdtempSync(join(tmpdir(), "dai-chain-"))
const file = (name: string, text: string) => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}
const decode = (text: string): Deployment => Result.getOrThrow(decodeDeployment(JSON.parse(text)))

/** A port nothing listens on (bound, then released). */
const closedPort = freePort

// Hardhat's default accounts (the mnemonic of every Hardhat network).
const account = (i: number) => HDNodeWallet.fromPhrase("test test test test test test test test test test test junk", undefined, `m/44'/60'/0'/0/${i}`)

describe("dai chain deploy: flags", () => {
  it("documents itself and is listed by dai --help", async () => {
    const r = await dai("chain", "deploy", "--help")
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/usage: dai chain deploy \[options\]/)
    for (const flag of ["--rpc URL", "--out FILE", "--genesis FILE", "--treasury-signer ADDR", "--treasury-threshold M", "--json", "DAI_DEPLOYER_KEY", "dry run"]) expect(r.out).toContain(flag)
    expect((await dai("--help")).out).toMatch(/chain deploy/)
  })

  it("exits 2 with usage on a bad flag, a bad URL, a stray argument or a bad genesis file", async () => {
    const [a, b] = [account(1).address, account(2).address]
    for (const [argv, why] of [
      [["--treasury-threshold", "2"], /--treasury-threshold needs the signers/],
      [["--treasury-signer", "0x12"], /--treasury-signer must be a non-zero 0x address/],
      [["--treasury-signer", `0x${"0".repeat(40)}`], /--treasury-signer must be a non-zero 0x address/],
      [["--treasury-signer", a, "--treasury-signer", a.toLowerCase()], /named twice/],
      [["--treasury-signer", a, "--treasury-signer", b, "--treasury-threshold", "3"], /need 1 <= M <= N = 2/],
      [["--treasury-signer", a, "--treasury-threshold", "0"], /need 1 <= M <= N = 1/],
      [["--treasury-signer", a, "--treasury-threshold", "two"], /must be a whole number/],
    ] as Array<[string[], RegExp]>) {
      const r = await dai("chain", "deploy", ...argv)
      expect(r.code, argv.join(" ")).toBe(2)
      expect(r.err, argv.join(" ")).toMatch(why)
    }
    for (const argv of [
      ["--bogus"], ["--rpc", "not a url"], ["--rpc", "ftp://127.0.0.1:8545"], ["extra"], ["--genesis", join(dir, "missing.json")],
      ["--genesis", file("short.json", JSON.stringify([{ address: account(0).address, tokens: "5" }]))],
      ["--genesis", file("bad.json", JSON.stringify([{ address: "0x12", tokens: "5" }]))],
    ]) {
      const r = await dai("chain", "deploy", ...argv)
      expect(r.code, argv.join(" ")).toBe(2)
      expect(r.err, argv.join(" ")).toMatch(/usage: dai chain deploy/)
    }
    expect((await dai("chain", "deploy", "--genesis", join(dir, "short.json"))).err).toMatch(/sum to 5 tokens .*not the total supply of 1000000000/)
    expect((await dai("chain", "deploy", "--genesis", join(dir, "bad.json"))).err).toMatch(/0\.address: a 0x address/)
  })

  it("refuses an unknown constitution, and periods under production's floors without --constitution devnet or under the devnet's", async () => {
    for (const [argv, why] of [
      [["--constitution", "lenient"], /--constitution must be one of production, devnet, got "lenient"/],
      [["--voting-period", "30s"], /--voting-period and --timelock below production's floors need --constitution devnet/],
      [["--constitution", "devnet", "--timelock", "1s"], /--timelock: 1s is outside the devnet constitution's bounds \[5s, 14d\]/],
      [["--constitution", "devnet", "--voting-period", "soon"], /--voting-period: "soon" is not a duration/],
    ] as Array<[string[], RegExp]>) {
      const r = await dai("chain", "deploy", ...argv)
      expect(r.code, argv.join(" ")).toBe(2)
      expect(r.err, argv.join(" ")).toMatch(why)
    }
  })

  it("refuses a bad --param in one line (exit 2) before deploying anything", async () => {
    for (const [argv, why] of [
      [["--param", "consensus.timeoutCommit"], /--param must be name=value/],
      [["--param", "no.such=1"], /^dai chain deploy: --param: unknown parameter "no\.such"/],
      [["--param", "training.dataset=mnist"], /--param: parameter training\.dataset is not numeric: the Constitution holds only numeric parameters; set it in the genesis \(dai genesis new --param\)/],
      [["--param", "slashing.doubleSignFraction=0"], /--param: parameter slashing\.doubleSignFraction: 0 is outside the constitution's bounds/],
      [["--param", "governance.votingPeriod=20s"], /--param: parameter governance\.votingPeriod: 20000 is outside the constitution's bounds \[1h/],
      [["--constitution", "devnet", "--param", "governance.timelock=1s"], /--param: parameter governance\.timelock: 1s is outside the devnet constitution's bounds \[5s, 14d\]/],
    ] as Array<[string[], RegExp]>) {
      const out = join(dir, "never-param.json")
      const r = await dai("chain", "deploy", ...argv, "--out", out)
      expect(r.code, argv.join(" ")).toBe(2)
      expect(r.err, argv.join(" ")).toMatch(why)
      expect(() => readFileSync(out)).toThrow()
    }
    const one = await dai("chain", "deploy", "--param", "slashing.doubleSignFraction=0")
    expect(one.err.trimEnd().split("\n")).toHaveLength(1)
  })

  it("fails with a message naming the URL when the RPC is unreachable", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`
    const r = await dai("chain", "deploy", "--rpc", url, "--out", join(dir, "never.json"))
    expect(r.code).toBe(1)
    expect(r.err).toContain(`cannot reach an Ethereum JSON-RPC node at ${url} (ECONNREFUSED)`)
    expect(() => readFileSync(join(dir, "never.json"))).toThrow()
  })
})

describe("dai chain deploy: deployments", () => {
  it("deploys on the in-process network as a dry run and says so; prints the roles (no account) and the funded Treasury and reserve", async () => {
    const out = join(dir, "dry.json")
    const r = await dai("chain", "deploy", "--out", out)
    expect(r.code, r.err).toBe(0)
    expect(r.out).toMatch(/^DRY RUN on Hardhat's in-process network/)
    expect(r.out).toMatch(/Staking\s+0x[0-9a-fA-F]{40}/)
    const d = decode(readFileSync(out, "utf8"))
    expect(d).toMatchObject({ dryRun: true, network: "in-process", chainId: "31337" })
    expect(d.genesis).toHaveLength(12)
    expect(d.genesis.reduce((x, g) => x + BigInt(g.amount), 0n)).toBe(TOTAL_SUPPLY)
    // Every role line names Governance or nobody, but the committee role, held by the Committee contract; no account.
    const roleLines = r.out.split("\n").filter((l) => /^ {2}(DAIToken|Staking|Constitution|Treasury|ContributionRegistry|Governance)\.\w+ /.test(l))
    expect(roleLines).toHaveLength(9)
    for (const l of roleLines) {
      if (l.includes("COMMITTEE_ROLE")) expect(l).toMatch(/COMMITTEE_ROLE +Committee 0x[0-9a-fA-F]{40} {2}\(the Committee contract: it slashes only on epoch reports signed by 2\/3 of the voting power\)$/)
      else expect(l).toMatch(/ (Governance 0x[0-9a-fA-F]{40}|nobody)$/)
    }
    expect(r.out).not.toContain("(an account)")
    expect(r.out).toMatch(/committee 0x[0-9a-fA-F]{40}: holds the reward reserve, 300000000 tokens/)
    expect(r.out).toMatch(/Staking\.DEFAULT_ADMIN_ROLE +Governance 0x/)
    expect(r.out).toMatch(/Staking\.PARAMS_ROLE +Governance 0x/)
    expect(r.out).toContain(`the deployer ${account(0).address} holds no role`)
    expect(r.out).toMatch(/treasury 0x[0-9a-fA-F]{40}: funded with 400000000 tokens, the community share of the genesis \(40 % of the supply\)/)
    expect(r.out).toMatch(/by 6 of its 9 signers: /)
    expect(d.treasury).toEqual({ signers: Array.from({ length: 9 }, (_, i) => account(i + 1).address), threshold: 6, funded: (400_000_000n * TOKEN).toString() })

    const j = await dai("chain", "deploy", "--out", join(dir, "dry2.json"), "--json")
    expect(j.code).toBe(0)
    expect(decode(j.out).dryRun).toBe(true)
    expect(j.err).toMatch(/DRY RUN/)
  })

  it("--constitution devnet: says so first and last, with the floors read back from the chain; production says nothing of it", async () => {
    const r = await dai("chain", "deploy", "--constitution", "devnet", "--voting-period", "30s", "--out", join(dir, "devnet.json"))
    expect(r.code, r.err).toBe(0)
    const lines = r.out.trimEnd().split("\n")
    expect(lines[0]).toBe("!! DEVNET CONSTITUTION: this deployment's Constitution has floors below production's (read back from the chain):")
    expect(lines.slice(1, 3)).toEqual([
      "!!   governance.votingPeriod  floor 5s (production 1h), now 30s",
      "!!   governance.timelock      floor 5s (production 1h), now 1m",
    ])
    expect(lines[3]).toMatch(/for devnets and tests only, never for a network with value at stake/)
    expect(lines.at(-1)).toBe(lines[0])
    expect(r.out).toMatch(/DRY RUN on Hardhat's in-process network/)
    const j = await dai("chain", "deploy", "--constitution", "devnet", "--out", join(dir, "devnet2.json"), "--json")
    expect(j.code).toBe(0)
    expect(decode(j.out).dryRun).toBe(true)
    expect(j.err).toMatch(/!! DEVNET CONSTITUTION/)
    expect((await dai("chain", "deploy", "--out", join(dir, "prod.json"))).out).not.toMatch(/DEVNET CONSTITUTION/)
  })

  describe("over JSON-RPC to a Hardhat node on 127.0.0.1", () => {
    let server: HardhatNode | undefined
    let url: string
    beforeAll(async () => {
      server = await startHardhatNode()
      url = server.url
    })
    afterAll(async () => {
      await server?.close()
    })

    it("deploys from the first unlocked account with the given genesis, and the adapter reads it via rpcUrl", async () => {
      const genesis = file("genesis.json", JSON.stringify([
        { address: account(0).address, tokens: "999990000" }, { address: account(1).address, tokens: 9_999.5 }, { address: account(2).address, tokens: "0.5" },
      ]))
      const out = join(dir, "real.json")
      const r = await dai("chain", "deploy", "--rpc", url, "--out", out, "--genesis", genesis, "--json")
      expect(r.code, r.err).toBe(0)
      expect(r.err).toBe("")
      const d = decode(r.out)
      expect(d).toEqual(decode(readFileSync(out, "utf8")))
      expect(d).toMatchObject({ dryRun: false, network: url, deployer: account(0).address })
      // A genesis without a "treasury" entry leaves it empty; its signers default to the node's other accounts.
      expect(d.treasury).toMatchObject({ funded: "0", threshold: 6 })
      expect(d.roles.holders.filter((h) => h.holder === account(0).address)).toEqual([])

      const chain = makeEvmChain({
        rpcUrl: url, deployment: d, accounts: { reserve: account(0).address, alice: account(1).address, bob: account(2).address },
        signerFor: (id) => (id === "alice" ? account(1) : undefined),
      })
      try {
        expect((await Effect.runPromise(chain.supply)).balances).toBe(TOTAL_SUPPLY)
        expect(await Effect.runPromise(chain.balanceOf("bob"))).toBe(TOKEN / 2n)
        const t = await Effect.runPromise(chain.submit({ type: "transfer", from: "alice", to: "bob", amount: TOKEN / 2n }))
        expect(t).toEqual({ type: "transfer", from: "alice", to: "bob", amount: TOKEN / 2n })
        expect(await Effect.runPromise(chain.balanceOf("bob"))).toBe(TOKEN)
        expect((await Effect.runPromise(chain.params))["staking.unbondingPeriod"]).toBe(21 * 86_400_000)
      } finally {
        await chain.close()
      }
    })

    it("--param installs numeric parameters in the Constitution (with --constitution devnet and short periods) and the summary names them", async () => {
      const out = join(dir, "params.json")
      const r = await dai("chain", "deploy", "--rpc", url, "--out", out, "--constitution", "devnet", "--voting-period", "20s", "--timelock", "5s",
        "--param", "consensus.timeoutCommit=500ms", "--param", "consensus.epochLength=20", "--param", "training.roundDeadline=20s")
      expect(r.code, r.err).toBe(0)
      expect(r.out).toContain("parameters set at deploy: consensus.timeoutCommit=500ms, consensus.epochLength=20, training.roundDeadline=20s")
      const d = decode(readFileSync(out, "utf8"))
      const chain = makeEvmChain({ rpcUrl: url, deployment: d, signerFor: () => undefined })
      try {
        const p = await Effect.runPromise(chain.params)
        expect([p["consensus.timeoutCommit"], p["consensus.epochLength"], p["training.roundDeadline"], p["governance.votingPeriod"], p["governance.timelock"]])
          .toEqual([500, 20, 20_000, 20_000, 5_000])
        expect(p["staking.unbondingPeriod"]).toBe(21 * 86_400_000) // the rest: the registry's defaults
      } finally {
        await chain.close()
      }
      expect((await dai("chain", "deploy", "--rpc", url, "--out", join(dir, "defaults.json"))).out).toContain("parameters: the registry's defaults")
    })

    it("fund sends gas and DAI from the deployer to an address, an identity.json or a data dir, and prints the new balances", async () => {
      const deployment = join(dir, "params.json")
      const to = account(7).address
      const r = await dai("chain", "fund", "--rpc", url, "--deployment", deployment, "--to", to, "--dai", "1000100")
      expect(r.code, r.err).toBe(0)
      expect(r.out.trimEnd()).toMatch(new RegExp(`^sent 1 ETH and 1,000,100 DAI from ${account(0).address} to ${to}\n  ${to} now holds [\\d,.]+ ETH and 2,000,100 DAI$`))
      // An identity (what `dai node init` writes), as a file or its data dir; --eth alone (account 30: past the 20 Hardhat funds).
      const node = join(dir, "fund-node")
      mkdirSync(node, { recursive: true })
      const fresh = account(30).address
      writeFileSync(join(node, "identity.json"), JSON.stringify({ format: "dai-identity/1", name: "node9", address: fresh.toLowerCase(), peerId: "12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo", addrs: [] }))
      const byDir = await dai("chain", "fund", "--rpc", url, "--deployment", deployment, "--to", node, "--eth", "0.5")
      expect(byDir.code, byDir.err).toBe(0)
      expect(byDir.out.trimEnd()).toBe(`sent 0.5 ETH and 0 DAI from ${account(0).address} to ${fresh} (node9)\n  ${fresh} now holds 0.5 ETH and 0 DAI`)
      const byFile = await dai("chain", "fund", "--rpc", url, "--deployment", deployment, "--to", join(node, "identity.json"), "--dai", "0.25", "--eth", "0")
      expect(byFile.out).toContain(`${fresh} now holds 0.5 ETH and 0.25 DAI`)
    })

    it("fund refuses a bad recipient or amount (exit 2), and fails in one line when the RPC is down or the deployer holds too little (exit 1), sending nothing", async () => {
      const deployment = join(dir, "params.json")
      for (const [argv, why] of [
        [["--to", "0x1234"], /--to 0x1234: not an address/],
        [["--to", "0x70997970c51812dc3A010C7d01b50e0d17dc79C8"], /not an address \(0x and 40 hex digits, a mixed-case one with a valid checksum\)/],
        [["--to", join(dir, "nobody")], /--to .*nobody: not a 0x address, and no such file or data dir/],
        [["--to", account(1).address, "--dai", "lots"], /--dai must be an amount/],
        [["--to", account(1).address, "--eth", "0"], /nothing to send/],
      ] as Array<[string[], RegExp]>) {
        const r = await dai("chain", "fund", "--rpc", url, "--deployment", deployment, ...argv)
        expect(r.code, argv.join(" ")).toBe(2)
        expect(r.err, argv.join(" ")).toMatch(why)
      }
      const down = `http://127.0.0.1:${await closedPort()}`
      const r = await dai("chain", "fund", "--rpc", down, "--deployment", deployment, "--to", account(1).address)
      expect(r.code).toBe(1)
      expect(r.err).toBe(`dai chain fund: cannot reach an Ethereum JSON-RPC node at ${down} (ECONNREFUSED); start one (e.g. \`npx hardhat node\`) or fix --rpc\n`)
      const before = await dai("chain", "fund", "--rpc", url, "--deployment", deployment, "--to", account(31).address, "--dai", "0", "--eth", "0.1")
      expect(before.code, before.err).toBe(0)
      const short = await dai("chain", "fund", "--rpc", url, "--deployment", deployment, "--to", account(31).address, "--dai", "999999999", "--eth", "0.1")
      expect(short.code).toBe(1)
      expect(short.err).toMatch(new RegExp(`^dai chain fund: the deployer ${account(0).address} holds [\\d,.]+ DAI, less than the 999,999,999 DAI asked; nothing was sent\n$`))
      const after = await dai("chain", "fund", "--rpc", url, "--deployment", deployment, "--to", account(31).address, "--dai", "0", "--eth", "0.1")
      expect(after.out).toContain(`${account(31).address} now holds 0.2 ETH and 0 DAI`)
    })

    it(`deploys from the key in $${DEPLOYER_KEY_ENV}, and refuses a malformed key`, async () => {
      process.env[DEPLOYER_KEY_ENV] = account(3).privateKey
      try {
        // With a key alone there is no other account to sign for the Treasury: it must be named.
        const unnamed = await dai("chain", "deploy", "--rpc", url, "--out", join(dir, "keyed.json"))
        expect(unnamed.code).toBe(2)
        expect(unnamed.err).toMatch(/name the Treasury's signers: --treasury-signer ADDR/)
        const signers = [account(4).address, account(5).address, account(6).address]
        const r = await dai("chain", "deploy", "--rpc", url, "--out", join(dir, "keyed.json"), ...signers.flatMap((a) => ["--treasury-signer", a]), "--treasury-threshold", "2")
        expect(r.code, r.err).toBe(0)
        expect(r.out).toMatch(new RegExp(`^Deployed to ${url.replace(/\./g, "\\.")} \\(chain id 31337\\)`))
        expect(r.out).toContain(`by 2 of its 3 signers: ${signers.join(", ")}`)
        const d = decode(readFileSync(join(dir, "keyed.json"), "utf8"))
        expect(d.deployer).toBe(account(3).address)
        expect(d.treasury).toEqual({ signers, threshold: 2, funded: (400_000_000n * TOKEN).toString() })
        expect(d.committee.rewardReserve).toBe((300_000_000n * TOKEN).toString())
        expect(d.genesis).toEqual([
          { address: account(3).address, amount: (TOTAL_SUPPLY - 700_000_000n * TOKEN).toString() },
          { address: d.contracts.Treasury, amount: (400_000_000n * TOKEN).toString() },
          { address: d.contracts.Committee, amount: (300_000_000n * TOKEN).toString() },
        ])
        process.env[DEPLOYER_KEY_ENV] = "0x1234"
        const bad = await dai("chain", "deploy", "--rpc", url, "--out", join(dir, "bad-key.json"))
        expect(bad.code).toBe(2)
        expect(bad.err).toMatch(/DAI_DEPLOYER_KEY is not a private key/)
      } finally {
        delete process.env[DEPLOYER_KEY_ENV]
      }
    })
  })
})
