/**
 * Byte arrays that nobody changes once made: whoever holds one may keep it as it is instead of copying
 * it. Only the code that made an array may seal it, and only when no one can write to it afterwards
 * (it is never handed out for writing). A simulated world's nodes store the same commit certificate
 * bytes (runtime/core/consensus/codec.ts, `encodeCommitShared`); its store (sim/adapters/sim-store.ts)
 * keeps sealed values without a copy, as it keeps one copy of equal unsealed ones. Large fresh arrays
 * are not free here: each is new memory the process faults in page by page.
 */
const sealed = new WeakSet<Uint8Array>()

/** Marks `bytes` as never to be changed again; returns it. */
export const seal = (bytes: Uint8Array): Uint8Array => {
  sealed.add(bytes)
  return bytes
}

/** Whether `bytes` was sealed. */
export const isSealed = (bytes: Uint8Array): boolean => sealed.has(bytes)
