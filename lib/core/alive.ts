/** Whether a process with this id still runs (one we may not signal still runs): how a lock or a temporary file left by a killed run is told from a live one's. */
export function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
