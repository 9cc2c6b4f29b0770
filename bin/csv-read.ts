#!/usr/bin/env node
import { runCli } from '../lib/cli.js'
import { csvReadCli } from '../lib/csv/read-cli.js'

await runCli(csvReadCli, import.meta)
