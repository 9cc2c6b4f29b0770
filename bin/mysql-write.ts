#!/usr/bin/env node
import { runCli } from '../lib/cli.js'
import { mysqlWriteCli } from '../lib/mysql/write-cli.js'

await runCli(mysqlWriteCli, import.meta)
