#!/usr/bin/env node
import { runCli } from '../lib/cli.js'
import { recDiffCli } from '../lib/diff/cli.js'

await runCli(recDiffCli, import.meta)
