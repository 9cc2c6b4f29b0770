#!/usr/bin/env node
import { runCli } from '../lib/cli.js'
import { esReadCli } from '../lib/es/read-cli.js'

await runCli(esReadCli, import.meta)
