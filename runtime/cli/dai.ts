#!/usr/bin/env node
/** The `dai` command: run a node, run the simulator, inspect parameters. */
import { main } from "./main.ts"

process.exitCode = await main(process.argv.slice(2))
