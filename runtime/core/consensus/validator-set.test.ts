import { describe, expect, it } from "vitest"
import { keccak256, toHex } from "../crypto.ts"
import { encodePacked, type Packed } from "./packed.ts"
import { ValidatorSet } from "./validator-set.ts"

const addr = (i: number) => `0x${i.toString(16).padStart(40, "0")}`
const setOf = (...powers: number[]) => ValidatorSet.from(powers.map((p, i) => ({ address: addr(i), power: BigInt(p) })))

describe("ValidatorSet", () => {
  it("orders by power descending, then address", () => {
    const s = setOf(1, 5, 5, 2)
    expect(s.validators.map((v) => v.address)).toEqual([addr(1), addr(2), addr(3), addr(0)])
    expect([s.indexOf(addr(3)), s.indexOf(addr(9)), s.power(addr(1)), s.power(addr(9))]).toEqual([2, -1, 5n, 0n])
  })

  it("gives each entry's position in the set, remembered for a frozen list only (one that cannot change after)", () => {
    const s = setOf(1, 5, 5, 2)
    const list = [addr(3), addr(9), addr(0), addr(3)].map((validator) => ({ validator }))
    expect([...s.positions(list)]).toEqual([2, -1, 3, 2])
    // A list that may change is looked up anew each time.
    list[1] = { validator: addr(1) }
    expect([...s.positions(list)]).toEqual([2, 0, 3, 2])
    const frozen = Object.freeze([...list])
    expect(s.positions(frozen)).toBe(s.positions(frozen))
    expect([...s.positions(frozen)]).toEqual([2, 0, 3, 2])
    // Per set: another set's positions of the same list are its own.
    expect([...setOf(5, 1).positions(frozen)]).toEqual([-1, 1, 0, -1])
  })

  it("quorum is the least power above 2/3, f+1 the least above 1/3", () => {
    const t = (...p: number[]) => [setOf(...p).totalPower, setOf(...p).quorum, setOf(...p).fPlusOne]
    expect(t(1, 1, 1)).toEqual([3n, 3n, 2n])
    expect(t(1, 1, 1, 1)).toEqual([4n, 3n, 2n])
    expect(t(25, 25, 25, 25)).toEqual([100n, 67n, 34n])
    expect(t(10, 10, 10, 10, 10, 10, 10, 10, 10)).toEqual([90n, 61n, 31n])
  })

  it("refuses an empty set, a bad address, a repeated address, a non-positive power", () => {
    expect(() => ValidatorSet.from([])).toThrow(/at least one/)
    expect(() => ValidatorSet.from([{ address: "0xABC", power: 1n }])).toThrow(/lowercase hex/)
    expect(() => ValidatorSet.from([{ address: addr(1), power: 1n }, { address: addr(1), power: 2n }])).toThrow(/twice/)
    expect(() => ValidatorSet.from([{ address: addr(1), power: 0n }])).toThrow(/positive/)
    expect(() => ValidatorSet.from([{ address: addr(1), power: 1n }], 0)).toThrow(/start height/)
  })

  it("hashes its members, powers and start height, whatever the input order", () => {
    const a = ValidatorSet.from([{ address: addr(1), power: 2n }, { address: addr(2), power: 3n }])
    const b = ValidatorSet.from([{ address: addr(2), power: 3n }, { address: addr(1), power: 2n }])
    expect(a.hash()).toBe(b.hash())
    expect(ValidatorSet.from(a.validators, 101).hash()).not.toBe(a.hash())
    expect(ValidatorSet.from([{ address: addr(1), power: 3n }, { address: addr(2), power: 3n }]).hash()).not.toBe(a.hash())
  })

  it("gives each set the keccak of its packed members, however many equal or other sets were hashed before", () => {
    const expected = (s: ValidatorSet) =>
      toHex(keccak256(encodePacked({ t: "string", v: "dai/validators/v1" }, { t: "uint256", v: s.startHeight }, ...s.validators.flatMap((v): Packed[] => [{ t: "address", v: v.address }, { t: "uint256", v: v.power }]))))
    const sets = Array.from({ length: 20 }, (_, i) => ValidatorSet.from([{ address: addr(1), power: BigInt(1 + (i % 12)) }, { address: addr(2), power: 3n }], 1 + (i % 3)))
    // fresh objects of the same sets, in another order: hashed through the shared recent hashes
    for (const s of [...sets, ...sets.reverse().map((x) => ValidatorSet.from(x.validators, x.startHeight))]) expect(s.hash()).toBe(expected(s))
  })
})
