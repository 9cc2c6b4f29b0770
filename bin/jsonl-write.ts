#!/usr/bin/env node
import { runCli } from '../lib/cli.js'
import { jsonlWriteCli } from '../lib/jsonl/write-cli.js'

await runCli(jsonlWriteCli, import.meta)
