#!/usr/bin/env node
/** The `dai` executable. */
import { main } from "../cli/dai.ts"

process.exitCode = await main(process.argv.slice(2))
