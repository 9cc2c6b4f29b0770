#!/usr/bin/env node
import { runCli } from '../lib/cli.js'
import { mysqlReadCli } from '../lib/mysql/read-cli.js'

await runCli(mysqlReadCli, import.meta)
