/**
 * Chooses the TensorFlow.js backend once, at start: `tensorflow` (native libtensorflow) when
 * `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node` can be imported, else `wasm`, else `cpu`.
 * A `--backend` flag (the `preferred` argument) beats the `DAI_TF_BACKEND` environment variable,
 * which beats the automatic choice; `auto` asks for the automatic choice explicitly. A backend asked
 * for by name that cannot start is an error, never a silent fallback.
 *
 * Selection is async (backends load code and compile wasm); everything after it is synchronous.
 */
import * as tf from "@tensorflow/tfjs"
import { TrainerError } from "../../services/trainer.ts"

export const TF_BACKENDS = ["tensorflow", "wasm", "cpu"] as const
export type TfBackend = (typeof TF_BACKENDS)[number]
export const BACKEND_ENV = "DAI_TF_BACKEND"

/** Native bindings, best first. Imported by a variable name: they are optional and usually absent. */
const NATIVE_PACKAGES = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"] as const

/** Parses a backend name from `source` (e.g. `--backend` or `$DAI_TF_BACKEND`); TrainerError if unknown. */
export function parseBackend(value: string, source: string): TfBackend | "auto" {
  const v = value.trim().toLowerCase()
  if (v === "auto" || (TF_BACKENDS as readonly string[]).includes(v)) return v as TfBackend | "auto"
  throw new TrainerError({
    operation: "selectBackend",
    reason: `${source}: unknown TensorFlow.js backend ${JSON.stringify(value)}; expected one of auto, ${TF_BACKENDS.join(", ")}`,
  })
}

/** The backend that `preferred` / the environment ask for (`auto` when neither does). */
export function requestedBackend(preferred?: string, env: Record<string, string | undefined> = process.env): TfBackend | "auto" {
  if (preferred !== undefined && preferred !== "") return parseBackend(preferred, "--backend")
  const fromEnv = env[BACKEND_ENV]
  if (fromEnv !== undefined && fromEnv !== "") return parseBackend(fromEnv, `$${BACKEND_ENV}`)
  return "auto"
}

/** Which native package got loaded, if any (reported next to the backend name). */
let nativePackage: string | undefined

/** Loads the first importable native binding; its import registers the `tensorflow` backend. */
async function loadNative(): Promise<string | undefined> {
  if (nativePackage !== undefined) return nativePackage
  for (const name of NATIVE_PACKAGES) {
    try {
      await import(name)
      nativePackage = name
      return name
    } catch {
      // Not installed (the usual case): try the next one.
    }
  }
  return undefined
}

async function start(backend: TfBackend): Promise<string | undefined> {
  switch (backend) {
    case "tensorflow":
      if ((await loadNative()) === undefined) return `needs ${NATIVE_PACKAGES.join(" or ")}, and neither can be imported (use --backend wasm or cpu)`
      break
    case "wasm":
      try {
        await import("@tensorflow/tfjs-backend-wasm")
      } catch (e) {
        return `cannot load @tensorflow/tfjs-backend-wasm: ${e instanceof Error ? e.message : String(e)}`
      }
      break
    case "cpu":
      break
  }
  try {
    if (!(await tf.setBackend(backend))) return "failed to initialize"
    await tf.ready()
  } catch (e) {
    return `failed to initialize: ${e instanceof Error ? e.message : String(e)}`
  }
  return undefined
}

/**
 * Starts and activates the backend asked for by `preferred` (a `--backend` value), else by
 * `$DAI_TF_BACKEND`, else the best available; resolves to its name, rejects with TrainerError.
 */
export async function selectBackend(preferred?: string, env: Record<string, string | undefined> = process.env): Promise<TfBackend> {
  const wanted = requestedBackend(preferred, env)
  if (wanted !== "auto") {
    const failure = await start(wanted)
    if (failure !== undefined) throw new TrainerError({ operation: "selectBackend", reason: `backend ${wanted} ${failure}` })
    return wanted
  }
  const failures: string[] = []
  for (const b of TF_BACKENDS) {
    const failure = await start(b)
    if (failure === undefined) return b
    failures.push(`${b}: ${failure}`)
  }
  throw new TrainerError({ operation: "selectBackend", reason: `no TensorFlow.js backend could start (${failures.join("; ")})` })
}

/** The active backend's name, and the native package behind it, e.g. `tensorflow (@tensorflow/tfjs-node)`. */
export function describeBackend(): string {
  const b = tf.getBackend()
  return b === "tensorflow" && nativePackage !== undefined ? `${b} (${nativePackage})` : b
}

/** Whether `backend` has the kernel a training op's gradient needs (e.g. `Conv2DBackpropFilter`). */
export const hasKernel = (kernel: string, backend: string): boolean => tf.getKernel(kernel, backend) !== undefined
