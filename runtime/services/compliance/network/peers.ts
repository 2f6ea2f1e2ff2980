/** Network compliance, peers: every node lists the others and not itself. */
import { afterEach, describe, expect, it } from "vitest"
import type { PeerId } from "../../network.ts"
import { run, type NetworkTopic } from "./harness.ts"

/** The peers tests. */
export const peersTests = (topic: NetworkTopic): void => {
  const { maxRounds, withNetworks } = topic
  describe("peers", () => {
    afterEach(() => topic.common.teardown())

    it("lists the other nodes as peers, and not itself", () =>
      withNetworks(3, async (h, nets) => {
        const ids = nets.map((n) => n.self)
        expect(new Set(ids).size).toBe(3)
        const peersOf = () => Promise.all(nets.map((n) => run(n.peers)))
        let seen: (readonly PeerId[])[] = []
        const complete = () => seen.every((ps, i) => ids.every((id, j) => j === i || ps.includes(id)))
        for (let round = 0; round < maxRounds && !complete(); round++) {
          await h.settle()
          seen = await peersOf()
        }
        expect(complete(), `peers never became complete: ${JSON.stringify(seen)}`).toBe(true)
        seen.forEach((ps, i) => expect(ps).not.toContain(ids[i]))
      }))
  })
}
