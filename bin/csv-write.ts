#!/usr/bin/env node
import { runCli } from '../lib/cli.js'
import { csvWriteCli } from '../lib/csv/write-cli.js'

await runCli(csvWriteCli, import.meta)
