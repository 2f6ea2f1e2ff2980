/**
 * A loopback TCP port to write into a config and listen on later (a devnet's nodes, a test's
 * processes). Such a port is only free when it is picked: whoever listens on it first gets it.
 * The OS's own choice (`listen(0)`) comes from the ephemeral range (32768–60999 on Linux), which is
 * also where every outgoing connection's local port comes from — on a busy machine another
 * process's connection took a devnet node's port in the seconds between picking and listening
 * ("cannot listen on /ip4/127.0.0.1/tcp/37487: address in use", a CI run). So the port is drawn at
 * random below that range, where only explicit listeners go, and checked free; the OS's choice is
 * the fallback.
 */
import { createServer } from "node:net"

/** Below Linux's default ephemeral range (and above most services' fixed ports). */
const LOW = 20_000
const HIGH = 32_767
const TRIES = 64

/** Whether `port` can be listened on at 127.0.0.1 now; the port (the OS's choice for 0) or undefined. */
const tryListen = (port: number): Promise<number | undefined> =>
  new Promise((resolve) => {
    const server = createServer()
    server.once("error", () => resolve(undefined))
    server.listen(port, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : undefined))
    })
  })

/** A TCP port free on 127.0.0.1 now, outside the ephemeral range when one is found there. */
export const freePort = async (): Promise<number> => {
  for (let i = 0; i < TRIES; i++) {
    const port = await tryListen(LOW + Math.floor(Math.random() * (HIGH - LOW + 1)))
    if (port !== undefined) return port
  }
  const port = await tryListen(0)
  if (port === undefined) throw new Error("no free TCP port on 127.0.0.1")
  return port
}
