/**
 * Every way the ledger refuses a market operation. Names follow the custom errors of
 * contracts/ComputeMarket.sol (`Market<Problem>`), so a revert and a simulator refusal read alike.
 * A refused operation changes nothing. (A requester short of tokens is refused by the token:
 * `TokenInsufficientBalance` in the economy, the token's revert on chain.)
 */
import { Schema } from "effect"
import { formatDuration } from "../duration.ts"
import { formatTokens } from "../units.ts"

const tok = (amount: bigint): string => `${formatTokens(amount)} tokens`
const at = (ms: number): string => `t=${ms}ms`
const wait = (from: number, to: number): string => formatDuration(Math.max(0, to - from))

// ---------------------------------------------------------------- providers

export class MarketProviderExists extends Schema.TaggedError<MarketProviderExists>()("MarketProviderExists", { provider: Schema.String }) {
  override get message() {
    return `${this.provider} is already a registered provider (once per account): change its price or capacity with updateProvider`
  }
}

export class MarketUnknownProvider extends Schema.TaggedError<MarketUnknownProvider>()("MarketUnknownProvider", { provider: Schema.String }) {
  override get message() {
    return `${this.provider} is not a registered provider; register it with a bond first`
  }
}

export class MarketInsufficientBond extends Schema.TaggedError<MarketInsufficientBond>()("MarketInsufficientBond", {
  provider: Schema.String,
  bond: Schema.BigInt,
  minimum: Schema.BigInt,
}) {
  override get message() {
    return `provider ${this.provider}'s bond of ${tok(this.bond)} is below market.minProviderBond (${tok(this.minimum)}): it cannot register, take a job or deliver with it`
  }
}

export class MarketInvalidProvider extends Schema.TaggedError<MarketInvalidProvider>()("MarketInvalidProvider", {
  provider: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `provider ${this.provider}: ${this.reason}`
  }
}

export class MarketProviderRetired extends Schema.TaggedError<MarketProviderRetired>()("MarketProviderRetired", { provider: Schema.String }) {
  override get message() {
    return `provider ${this.provider} has retired: it takes no job and cannot change its offer (withdraw its bond once its jobs end)`
  }
}

export class MarketProviderNotRetired extends Schema.TaggedError<MarketProviderNotRetired>()("MarketProviderNotRetired", { provider: Schema.String }) {
  override get message() {
    return `provider ${this.provider} has not retired: retire it first, then withdraw the bond once its jobs end`
  }
}

export class MarketProviderBusy extends Schema.TaggedError<MarketProviderBusy>()("MarketProviderBusy", {
  provider: Schema.String,
  openJobs: Schema.Number,
}) {
  override get message() {
    return `provider ${this.provider} still holds ${this.openJobs} open job(s); its bond answers for them until they are settled, refunded or taken from it`
  }
}

export class MarketProviderFull extends Schema.TaggedError<MarketProviderFull>()("MarketProviderFull", {
  provider: Schema.String,
  capacity: Schema.Number,
}) {
  override get message() {
    return `provider ${this.provider} already holds its capacity of ${this.capacity} job(s); pick another provider or wait`
  }
}

export class MarketKindNotServed extends Schema.TaggedError<MarketKindNotServed>()("MarketKindNotServed", {
  provider: Schema.String,
  kind: Schema.String,
}) {
  override get message() {
    return `provider ${this.provider} does not serve jobs of kind "${this.kind}"`
  }
}

export class MarketPriceTooHigh extends Schema.TaggedError<MarketPriceTooHigh>()("MarketPriceTooHigh", {
  job: Schema.Number,
  provider: Schema.String,
  price: Schema.BigInt,
  maxPrice: Schema.BigInt,
}) {
  override get message() {
    return `provider ${this.provider} asks ${tok(this.price)} per unit, more than job ${this.job}'s maximum of ${tok(this.maxPrice)}`
  }
}

export class MarketProviderExcluded extends Schema.TaggedError<MarketProviderExcluded>()("MarketProviderExcluded", {
  job: Schema.Number,
  provider: Schema.String,
}) {
  override get message() {
    return `provider ${this.provider} delivered a refuted result on job ${this.job} and is never assigned to it again`
  }
}

// ---------------------------------------------------------------- jobs

export class MarketInvalidJob extends Schema.TaggedError<MarketInvalidJob>()("MarketInvalidJob", { reason: Schema.String }) {
  override get message() {
    return `job refused: ${this.reason}`
  }
}

export class MarketUnknownJob extends Schema.TaggedError<MarketUnknownJob>()("MarketUnknownJob", { job: Schema.Number }) {
  override get message() {
    return `no job ${this.job} (job ids start at 1)`
  }
}

export class MarketNotRequester extends Schema.TaggedError<MarketNotRequester>()("MarketNotRequester", {
  job: Schema.Number,
  caller: Schema.String,
  requester: Schema.String,
}) {
  override get message() {
    return `only job ${this.job}'s requester ${this.requester} may do this, not ${this.caller}`
  }
}

export class MarketNotProvider extends Schema.TaggedError<MarketNotProvider>()("MarketNotProvider", {
  job: Schema.Number,
  caller: Schema.String,
  provider: Schema.UndefinedOr(Schema.String),
}) {
  override get message() {
    return this.provider === undefined
      ? `job ${this.job} has no provider assigned; ${this.caller} cannot deliver on it`
      : `only job ${this.job}'s assigned provider ${this.provider} may deliver on it, not ${this.caller}`
  }
}

export class MarketNotReferee extends Schema.TaggedError<MarketNotReferee>()("MarketNotReferee", {
  job: Schema.Number,
  caller: Schema.String,
}) {
  override get message() {
    return `${this.caller} is not a referee (an active validator of the committee) and cannot judge job ${this.job}`
  }
}

export class MarketJobNotOpen extends Schema.TaggedError<MarketJobNotOpen>()("MarketJobNotOpen", {
  job: Schema.Number,
  state: Schema.String,
}) {
  override get message() {
    return `job ${this.job} is ${this.state}, not open: only an open job can be assigned`
  }
}

export class MarketJobNotAssigned extends Schema.TaggedError<MarketJobNotAssigned>()("MarketJobNotAssigned", {
  job: Schema.Number,
  state: Schema.String,
}) {
  override get message() {
    return `job ${this.job} is ${this.state}, not assigned to a provider`
  }
}

export class MarketJobDisputed extends Schema.TaggedError<MarketJobDisputed>()("MarketJobDisputed", { job: Schema.Number }) {
  override get message() {
    return `job ${this.job} is under dispute: nothing moves until the referee's verdict (resolveDispute)`
  }
}

export class MarketJobFinal extends Schema.TaggedError<MarketJobFinal>()("MarketJobFinal", {
  job: Schema.Number,
  state: Schema.String,
}) {
  override get message() {
    return `job ${this.job} is ${this.state}: it is over and nothing more moves`
  }
}

export class MarketNotDisputed extends Schema.TaggedError<MarketNotDisputed>()("MarketNotDisputed", {
  job: Schema.Number,
  state: Schema.String,
}) {
  override get message() {
    return `job ${this.job} is ${this.state}, not under dispute: there is nothing to resolve`
  }
}

// ---------------------------------------------------------------- time

export class MarketPastDeadline extends Schema.TaggedError<MarketPastDeadline>()("MarketPastDeadline", {
  job: Schema.Number,
  deadline: Schema.Number,
  now: Schema.Number,
}) {
  override get message() {
    return `job ${this.job}'s deadline ${at(this.deadline)} has passed (now ${at(this.now)}); refund it instead`
  }
}

export class MarketBeforeDeadline extends Schema.TaggedError<MarketBeforeDeadline>()("MarketBeforeDeadline", {
  job: Schema.Number,
  deadline: Schema.Number,
  now: Schema.Number,
}) {
  override get message() {
    return `job ${this.job} runs until its deadline ${at(this.deadline)}; refund it in ${wait(this.now, this.deadline)}`
  }
}

export class MarketDisputeWindowClosed extends Schema.TaggedError<MarketDisputeWindowClosed>()("MarketDisputeWindowClosed", {
  job: Schema.Number,
  closedAt: Schema.Number,
  now: Schema.Number,
}) {
  override get message() {
    return `job ${this.job}'s newest pending delivery could be disputed until ${at(this.closedAt)} (now ${at(this.now)}); it can only be settled now`
  }
}

export class MarketDisputeWindowOpen extends Schema.TaggedError<MarketDisputeWindowOpen>()("MarketDisputeWindowOpen", {
  job: Schema.Number,
  closesAt: Schema.Number,
  now: Schema.Number,
}) {
  override get message() {
    return `job ${this.job} has a delivery that can still be disputed until ${at(this.closesAt)}; refund it in ${wait(this.now, this.closesAt)}`
  }
}

export class MarketNoShowNotDue extends Schema.TaggedError<MarketNoShowNotDue>()("MarketNoShowNotDue", {
  job: Schema.Number,
  dueAt: Schema.Number,
  now: Schema.Number,
}) {
  override get message() {
    return `job ${this.job}'s provider is not late: it may be taken away from ${at(this.dueAt)} (in ${wait(this.now, this.dueAt)}) if nothing is delivered by then`
  }
}

// ---------------------------------------------------------------- deliveries and notes

export class MarketInvalidDelivery extends Schema.TaggedError<MarketInvalidDelivery>()("MarketInvalidDelivery", {
  job: Schema.Number,
  reason: Schema.String,
}) {
  override get message() {
    return `delivery on job ${this.job} refused: ${this.reason}`
  }
}

export class MarketOverDelivery extends Schema.TaggedError<MarketOverDelivery>()("MarketOverDelivery", {
  job: Schema.Number,
  units: Schema.BigInt,
  delivered: Schema.BigInt,
  total: Schema.BigInt,
}) {
  override get message() {
    return `job ${this.job} has ${this.total} units of which ${this.delivered} are delivered; ${this.units} more is too many`
  }
}

export class MarketNoteTooLarge extends Schema.TaggedError<MarketNoteTooLarge>()("MarketNoteTooLarge", {
  job: Schema.Number,
  amount: Schema.BigInt,
  maxAmount: Schema.BigInt,
}) {
  override get message() {
    return `a debit note of ${tok(this.amount)} on job ${this.job} is more than the provider's bond answers for (at most ${tok(this.maxAmount)}: ` +
      `wrongResultSlash × bond × verificationRate ÷ (1 − verificationRate)); deliver the work in smaller notes or add to the bond`
  }
}

export class MarketNothingToPay extends Schema.TaggedError<MarketNothingToPay>()("MarketNothingToPay", { job: Schema.Number }) {
  override get message() {
    return `job ${this.job} has no pending delivery to pay now (settle pays those whose dispute window has closed)`
  }
}

export class MarketNothingToDispute extends Schema.TaggedError<MarketNothingToDispute>()("MarketNothingToDispute", { job: Schema.Number }) {
  override get message() {
    return `job ${this.job} has no pending delivery to dispute`
  }
}

export class MarketNotesPending extends Schema.TaggedError<MarketNotesPending>()("MarketNotesPending", {
  job: Schema.Number,
  notes: Schema.Number,
}) {
  override get message() {
    return `job ${this.job} has ${this.notes} pending deliveries: confirm or dispute them before taking the job from its provider`
  }
}

/** Every error a market rule can return. */
export type MarketError =
  | MarketProviderExists | MarketUnknownProvider | MarketInsufficientBond | MarketInvalidProvider | MarketProviderRetired
  | MarketProviderNotRetired | MarketProviderBusy | MarketProviderFull | MarketKindNotServed | MarketPriceTooHigh
  | MarketProviderExcluded | MarketInvalidJob | MarketUnknownJob | MarketNotRequester | MarketNotProvider | MarketNotReferee
  | MarketJobNotOpen | MarketJobNotAssigned | MarketJobDisputed | MarketJobFinal | MarketNotDisputed | MarketPastDeadline
  | MarketBeforeDeadline | MarketDisputeWindowClosed | MarketDisputeWindowOpen | MarketNoShowNotDue | MarketInvalidDelivery
  | MarketOverDelivery | MarketNoteTooLarge | MarketNothingToPay | MarketNothingToDispute | MarketNotesPending

/** The tags of every market error (for the contract's error list and the differential property). */
export const MARKET_ERROR_TAGS = [
  "MarketProviderExists", "MarketUnknownProvider", "MarketInsufficientBond", "MarketInvalidProvider", "MarketProviderRetired",
  "MarketProviderNotRetired", "MarketProviderBusy", "MarketProviderFull", "MarketKindNotServed", "MarketPriceTooHigh",
  "MarketProviderExcluded", "MarketInvalidJob", "MarketUnknownJob", "MarketNotRequester", "MarketNotProvider", "MarketNotReferee",
  "MarketJobNotOpen", "MarketJobNotAssigned", "MarketJobDisputed", "MarketJobFinal", "MarketNotDisputed", "MarketPastDeadline",
  "MarketBeforeDeadline", "MarketDisputeWindowClosed", "MarketDisputeWindowOpen", "MarketNoShowNotDue", "MarketInvalidDelivery",
  "MarketOverDelivery", "MarketNoteTooLarge", "MarketNothingToPay", "MarketNothingToDispute", "MarketNotesPending",
] as const satisfies ReadonlyArray<MarketError["_tag"]>
