#!/usr/bin/env node
import '../lib/core/young-generation.js'
import { runCli } from '../lib/cli.js'
import { recDiffCli } from '../lib/diff/cli.js'

const { build, ...spec } = recDiffCli
await runCli({ ...spec, importMeta: import.meta }, build)
