#!/usr/bin/env node
import { runCli } from '../lib/cli.js'
import { esWriteCli } from '../lib/es/write-cli.js'

await runCli(esWriteCli, import.meta)
