/**
 * The node's encrypted keystore: an ethers v6 JSON wallet (Web3 Secret Storage: scrypt + AES-128-CTR),
 * the format every Ethereum tool reads, holding the validator's secp256k1 signing key. The key is
 * unlocked once at start and handed to the Keys port (keys.ts); it never touches the disk in clear.
 *
 * The password comes from, in this order: a file (`--password-file`, first line), the environment
 * (`DAI_PASSWORD`), or a prompt on the terminal without echo. With none of them a node refuses to
 * start rather than guess. A new keystore needs a password of at least MIN_PASSWORD_LENGTH characters;
 * an existing one unlocks with whatever password it was made with.
 */
import { readFileSync } from "node:fs"
import { createInterface } from "node:readline"
import { Writable } from "node:stream"
import { decryptKeystoreJson, encryptKeystoreJson, isKeystoreJson, Wallet } from "ethers"
import { Effect, Schema } from "effect"
import { fromHex, toHex } from "../core/crypto.ts"

/** Environment variable a password may come from. */
export const PASSWORD_ENV = "DAI_PASSWORD"
/** ethers' default scrypt cost (2^17): about a second to unlock, on purpose. */
export const DEFAULT_SCRYPT_N = 131_072
/**
 * Fewest characters of a new keystore's password (NIST SP 800-63B's floor for a chosen secret). The
 * keystore file is all an attacker needs to guess offline, so scrypt's cost multiplies a space that
 * must not be tiny to begin with.
 */
export const MIN_PASSWORD_LENGTH = 8

export class KeystoreError extends Schema.TaggedError<KeystoreError>()("KeystoreError", {
  /** "create", "unlock", "password" (no password to be had) or "policy" (a new password too short: a usage error). */
  operation: Schema.String,
  /** The keystore file or password source concerned. */
  source: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `${this.source}: ${this.reason}`
  }
}

const errorText = (e: unknown): string => (e instanceof Error ? ((e as { shortMessage?: string }).shortMessage ?? e.message) : String(e))

/** Why `password` may not protect a new keystore, or undefined when it may (counted in characters, not bytes). */
export const newPasswordProblem = (password: string): string | undefined => {
  const length = [...password].length
  return length >= MIN_PASSWORD_LENGTH ? undefined
    : `the password has ${length} character${length === 1 ? "" : "s"}; a new keystore needs at least ${MIN_PASSWORD_LENGTH}`
}

/** A fresh random secp256k1 private key (32 bytes). */
export const newPrivateKey = (): Uint8Array => fromHex(Wallet.createRandom().privateKey)

export interface EncryptOptions {
  /** scrypt cost, a power of two (default 2^17). Lower only for throwaway keys (devnets, tests). */
  readonly scryptN?: number
}

/** Encrypt `privateKey` with `password` (at least MIN_PASSWORD_LENGTH characters) into a JSON wallet. */
export const encryptKey = (privateKey: Uint8Array, password: string, options: EncryptOptions = {}): Effect.Effect<string, KeystoreError> => {
  const problem = newPasswordProblem(password)
  if (problem !== undefined) return Effect.fail(new KeystoreError({ operation: "policy", source: "keystore", reason: problem }))
  return Effect.tryPromise({
    try: async () => {
      const n = options.scryptN ?? DEFAULT_SCRYPT_N
      if (!Number.isSafeInteger(n) || n < 2 || (n & (n - 1)) !== 0) throw new Error(`scrypt N must be a power of two >= 2, got ${n}`)
      const wallet = new Wallet(toHex(privateKey))
      return encryptKeystoreJson({ address: wallet.address, privateKey: wallet.privateKey }, password, { scrypt: { N: n } })
    },
    catch: (e) => new KeystoreError({ operation: "create", source: "keystore", reason: errorText(e) }),
  })
}

/** The address a keystore claims to hold, without decrypting it (undefined when it is not a keystore). */
export const keystoreAddress = (json: string): string | undefined => {
  if (!isKeystoreJson(json)) return undefined
  const address = (JSON.parse(json) as { address?: unknown }).address
  return typeof address === "string" ? (address.startsWith("0x") ? address : `0x${address}`).toLowerCase() : undefined
}

/** Decrypt the JSON wallet `json` (read from `source`) with `password`; the 32-byte private key. */
export const decryptKey = (json: string, password: string, source: string): Effect.Effect<Uint8Array, KeystoreError> =>
  Effect.tryPromise({
    try: async () => {
      if (!isKeystoreJson(json)) throw new Error("not an encrypted JSON wallet (expected Web3 Secret Storage, version 3)")
      try {
        return fromHex((await decryptKeystoreJson(json, password)).privateKey)
      } catch (e) {
        if (/incorrect password/.test(errorText(e))) throw new Error("wrong password (the keystore's MAC does not match)")
        throw e
      }
    },
    catch: (e) => new KeystoreError({ operation: "unlock", source, reason: errorText(e) }),
  })

/** Read and decrypt the keystore file at `path`. */
export const unlockKeystoreFile = (path: string, password: string): Effect.Effect<Uint8Array, KeystoreError> =>
  Effect.flatMap(
    Effect.try({
      try: () => readFileSync(path, "utf8"),
      catch: (e) => new KeystoreError({ operation: "unlock", source: path, reason: `cannot read it (${(e as NodeJS.ErrnoException).code ?? errorText(e)})` }),
    }),
    (json) => decryptKey(json, password, path),
  )

export interface PasswordSources {
  /** A file whose first line is the password. */
  readonly file?: string | undefined
  readonly env?: NodeJS.ProcessEnv
  /** Prompt here when neither a file nor the environment gives one (a TTY). */
  readonly tty?: NodeJS.ReadStream | undefined
  /**
   * For a new keystore: refuse a password shorter than MIN_PASSWORD_LENGTH (from any source, before
   * a prompt asks again), and ask twice on the terminal, requiring the same answer.
   */
  readonly confirm?: boolean
}

/** The password from the first source that has one; a clear error when none has. */
export const readPassword = (sources: PasswordSources): Effect.Effect<string, KeystoreError> =>
  Effect.gen(function*() {
    // A password to create a keystore with must pass newPasswordProblem; one that unlocks need not.
    const policy = (password: string, source: string): Effect.Effect<string, KeystoreError> => {
      const problem = sources.confirm === true ? newPasswordProblem(password) : undefined
      return problem === undefined ? Effect.succeed(password) : Effect.fail(new KeystoreError({ operation: "policy", source, reason: problem }))
    }
    if (sources.file !== undefined) {
      const file = sources.file
      const text = yield* Effect.try({
        try: () => readFileSync(file, "utf8"),
        catch: (e) => new KeystoreError({ operation: "password", source: file, reason: `cannot read the password file (${(e as NodeJS.ErrnoException).code ?? errorText(e)})` }),
      })
      const password = text.split(/\r?\n/)[0] ?? ""
      if (password === "") return yield* new KeystoreError({ operation: "password", source: file, reason: "the password file's first line is empty" })
      return yield* policy(password, file)
    }
    const fromEnv = (sources.env ?? process.env)[PASSWORD_ENV]
    if (fromEnv !== undefined && fromEnv !== "") return yield* policy(fromEnv, `$${PASSWORD_ENV}`)
    const tty = sources.tty
    if (tty === undefined || !tty.isTTY) {
      return yield* new KeystoreError({
        operation: "password", source: "password",
        reason: `no password: give --password-file FILE, set ${PASSWORD_ENV}, or run in a terminal to be asked`,
      })
    }
    const first = yield* prompt(tty, "Keystore password: ")
    if (first === "") return yield* new KeystoreError({ operation: "password", source: "terminal", reason: "the password is empty" })
    yield* policy(first, "terminal")
    if (sources.confirm === true) {
      const again = yield* prompt(tty, "Repeat the password: ")
      if (again !== first) return yield* new KeystoreError({ operation: "password", source: "terminal", reason: "the two passwords differ" })
    }
    return first
  })

/** Ask on the terminal without echoing what is typed. */
const prompt = (input: NodeJS.ReadStream, question: string): Effect.Effect<string, KeystoreError> =>
  Effect.callback<string, KeystoreError>((resume) => {
    let muted = false
    // Echo the question, swallow the keystrokes.
    const output = new Writable({
      write: (chunk, _enc, done) => {
        if (!muted) process.stderr.write(chunk)
        done()
      },
    })
    const rl = createInterface({ input, output, terminal: true })
    rl.question(question, (answer) => {
      rl.close()
      process.stderr.write("\n")
      resume(Effect.succeed(answer))
    })
    muted = true
    rl.on("SIGINT", () => {
      rl.close()
      resume(Effect.fail(new KeystoreError({ operation: "password", source: "terminal", reason: "interrupted" })))
    })
    return Effect.sync(() => rl.close())
  })
