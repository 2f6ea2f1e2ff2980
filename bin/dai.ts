#!/usr/bin/env node
/** The `dai` executable. */
import { CLOSED_PIPE_EXIT, isClosedPipe } from "../cli/command.ts"
import { main } from "../cli/dai.ts"

// `dai params | head`: once the reader has gone, Node emits EPIPE on the stream as an unhandled
// 'error' and dies with a stack. Nothing more can be printed, so end quietly, as SIGPIPE would.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e) => {
    if (isClosedPipe(e)) process.exit(CLOSED_PIPE_EXIT)
    throw e
  })
}

process.exitCode = await main(process.argv.slice(2))
