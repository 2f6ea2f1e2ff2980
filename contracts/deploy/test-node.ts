/**
 * A Hardhat node served over JSON-RPC on 127.0.0.1, on a free port, in this process: what the CLI
 * tests dial as `npx hardhat node` would be dialled (contracts built first). Test support only.
 */
import { createServer } from "node:net"
import { ensureBuilt } from "./build.ts"

/** A loopback port nothing listens on now (bound, then released). */
export const freePort = (): Promise<number> =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })

/** A running Hardhat node: its URL, and `close` to stop it. */
export interface HardhatNode {
  readonly url: string
  close(): Promise<void>
}

/** Build the contracts and serve a fresh Hardhat network (Hardhat's default accounts, unlocked) on 127.0.0.1. */
export const startHardhatNode = async (): Promise<HardhatNode> => {
  await ensureBuilt()
  const { network } = await import("hardhat")
  const server = await network.createServer("default", "127.0.0.1", await freePort())
  const { address, port } = await server.listen()
  if (address !== "127.0.0.1") throw new Error(`the Hardhat node listens on ${address}, not 127.0.0.1`)
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() }
}
