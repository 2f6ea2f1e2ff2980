/** `dai sim …` commands. */
import type { Command } from "./command.ts"

export const simCommands: readonly Command[] = []
