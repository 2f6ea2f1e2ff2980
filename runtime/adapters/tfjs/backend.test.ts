import * as tf from "@tensorflow/tfjs"
import { describe, expect, it } from "vitest"
import { TrainerError } from "../../services/trainer.ts"
import { BACKEND_ENV, describeBackend, parseBackend, requestedBackend, selectBackend } from "./backend.ts"

/** Whether a native binding is importable here (it usually is not: it downloads libtensorflow). */
const nativeInstalled = async (): Promise<boolean> => {
  for (const name of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
    try {
      await import(name)
      return true
    } catch {
      // absent
    }
  }
  return false
}

const reasonOf = (f: () => unknown): string => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(TrainerError)
    return (e as TrainerError).reason
  }
  throw new Error("expected a TrainerError")
}

const rejection = async (p: Promise<unknown>): Promise<TrainerError> => {
  try {
    await p
  } catch (e) {
    expect(e).toBeInstanceOf(TrainerError)
    return e as TrainerError
  }
  throw new Error("expected a rejection")
}

describe("backend selection", () => {
  it("the flag beats the environment, which beats auto", () => {
    expect(requestedBackend(undefined, {})).toBe("auto")
    expect(requestedBackend(undefined, { [BACKEND_ENV]: "cpu" })).toBe("cpu")
    expect(requestedBackend("wasm", { [BACKEND_ENV]: "cpu" })).toBe("wasm")
    expect(requestedBackend("", { [BACKEND_ENV]: " CPU " })).toBe("cpu")
    expect(parseBackend("auto", "x")).toBe("auto")
  })

  it("an unknown name is a TrainerError naming where it came from and the choices", () => {
    expect(reasonOf(() => requestedBackend(undefined, { [BACKEND_ENV]: "gpu" }))).toMatch(/\$DAI_TF_BACKEND: unknown TensorFlow\.js backend "gpu"; expected one of auto, tensorflow, wasm, cpu/)
    expect(reasonOf(() => requestedBackend("webgl", {}))).toMatch(/--backend: unknown/)
  })

  it("auto picks tensorflow when a native binding is importable, else wasm; the env and flag override it", async () => {
    const native = await nativeInstalled()
    expect(await selectBackend(undefined, {})).toBe(native ? "tensorflow" : "wasm")
    expect(tf.getBackend()).toBe(native ? "tensorflow" : "wasm")
    expect(await selectBackend(undefined, { [BACKEND_ENV]: "cpu" })).toBe("cpu")
    expect(describeBackend()).toBe("cpu")
    expect(await selectBackend("wasm", { [BACKEND_ENV]: "cpu" })).toBe("wasm")
    expect(tf.getBackend()).toBe("wasm")
    expect((await rejection(selectBackend(undefined, { [BACKEND_ENV]: "nope" }))).reason).toMatch(/unknown TensorFlow\.js backend "nope"/)
  })

  it("asking for tensorflow without the native binding fails clearly instead of falling back", async () => {
    if (await nativeInstalled()) return
    const e = await rejection(selectBackend("tensorflow", {}))
    expect(e.reason).toMatch(/backend tensorflow needs @tensorflow\/tfjs-node-gpu or @tensorflow\/tfjs-node.*use --backend wasm or cpu/)
    expect(tf.getBackend()).toBe("wasm") // unchanged
  })
})
