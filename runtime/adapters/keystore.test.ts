/**
 * The keystore's password rule: a new keystore needs MIN_PASSWORD_LENGTH characters, whichever way
 * the password comes (argument, file, environment); an existing keystore made with a shorter one (an
 * older dai, another tool) still unlocks with it, since the rule is for choosing, not for opening.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { encryptKeystoreJson, Wallet } from "ethers"
import { Effect, Result } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { toHex } from "../core/crypto.ts"
import { decryptKey, encryptKey, MIN_PASSWORD_LENGTH, newPasswordProblem, newPrivateKey, readPassword } from "./keystore.ts"

const dir = mkdtempSync(join(tmpdir(), "dai-keystore-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(Effect.result(e))
const cheap = { scryptN: 16 } // the rule is checked, not the cost of guessing

describe("a new keystore's password", () => {
  it(`needs at least ${MIN_PASSWORD_LENGTH} characters, counted as characters`, () => {
    expect(MIN_PASSWORD_LENGTH).toBe(8)
    expect(newPasswordProblem("a")).toBe("the password has 1 character; a new keystore needs at least 8")
    expect(newPasswordProblem("1234567")).toBe("the password has 7 characters; a new keystore needs at least 8")
    expect(newPasswordProblem("12345678")).toBeUndefined()
    expect(newPasswordProblem("пароль")).toMatch(/has 6 characters/) // 12 bytes, 6 characters
    expect(newPasswordProblem("🔑🔑🔑🔑🔑🔑🔑")).toMatch(/has 7 characters/)
  })

  it("is refused by encryptKey with the policy error, and a long enough one is accepted", async () => {
    const key = newPrivateKey()
    const short = await run(encryptKey(key, "x", cheap))
    expect(Result.isFailure(short) && [short.failure.operation, short.failure.message]).toEqual(["policy", "keystore: the password has 1 character; a new keystore needs at least 8"])
    const empty = await run(encryptKey(key, "", cheap))
    expect(Result.isFailure(empty) && empty.failure.operation).toBe("policy")
    const ok = await run(encryptKey(key, "correct horse", cheap))
    expect(Result.isSuccess(ok) && (await run(decryptKey(ok.success, "correct horse", "k"))))
      .toEqual(Result.succeed(key))
  })

  it("from a file or the environment is checked when creating, not when unlocking", async () => {
    const file = join(dir, "pw")
    writeFileSync(file, "pw\n")
    const creating = await run(readPassword({ file, confirm: true }))
    expect(Result.isFailure(creating) && [creating.failure.operation, creating.failure.message]).toEqual(["policy", `${file}: the password has 2 characters; a new keystore needs at least 8`])
    expect(await Effect.runPromise(readPassword({ file }))).toBe("pw")
    const env = await run(readPassword({ env: { DAI_PASSWORD: "short" }, confirm: true }))
    expect(Result.isFailure(env) && env.failure.message).toBe("$DAI_PASSWORD: the password has 5 characters; a new keystore needs at least 8")
    expect(await Effect.runPromise(readPassword({ env: { DAI_PASSWORD: "long enough" }, confirm: true }))).toBe("long enough")
  })

  it("does not lock out an existing keystore made with a shorter password", async () => {
    const wallet = Wallet.createRandom()
    const old = await encryptKeystoreJson({ address: wallet.address, privateKey: wallet.privateKey }, "pw", { scrypt: { N: 16 } })
    const key = await Effect.runPromise(decryptKey(old, "pw", "old.json"))
    expect(toHex(key)).toBe(wallet.privateKey)
  })
})
