/**
 * `dai chain deploy`: flags and exit codes, the in-process dry run, a real deploy over JSON-RPC to a
 * Hardhat node served on 127.0.0.1 (in this process, on a random free port), and the EVM adapter
 * reading that deployment through `rpcUrl`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Result } from "effect"
import { HDNodeWallet } from "ethers"
import { network } from "hardhat"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ensureBuilt } from "../contracts/deploy/build.ts"
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
const closedPort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })

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
    let server: { close(): Promise<void> }
    let url: string
    beforeAll(async () => {
      await ensureBuilt()
      const s = await network.createServer("default", "127.0.0.1", await closedPort())
      const { address, port } = await s.listen()
      expect(address).toBe("127.0.0.1")
      url = `http://127.0.0.1:${port}`
      server = s
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
