/** The consensus wire topics: proposals, votes and commit certificates; and requests for certificates (block sync). */

/** Proposals, votes and commit certificates (gossiped, or sent to one peer by block sync). */
export const CONSENSUS_TOPIC = "consensus"
/** `{ from: height }`: a node behind asks a peer for the certificates it misses (sent to that peer). */
export const SYNC_TOPIC = "consensus/sync"
