/**
 * The keys a node's Store holds its consensus data under, defined once: the consensus actor writes
 * commit certificates there, restarts replay them, block sync serves them and the node API reads them.
 */

/** Every certificate key starts with this (a store scan by prefix finds them all, in height order). */
export const BLOCK_KEY_PREFIX = "block/"

/** The store key of the commit certificate of `height`, zero-padded to 12 digits so keys sort by height. */
export const blockKey = (height: number): string => `${BLOCK_KEY_PREFIX}${String(height).padStart(12, "0")}`
