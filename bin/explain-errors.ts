#!/usr/bin/env node
import { runCli } from '../lib/cli.js'
import { explainErrorsCli } from '../lib/explain/explain-cli.js'

await runCli(explainErrorsCli, import.meta)
