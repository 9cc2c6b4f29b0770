// A slow consumer for the es-read benchmark: reads stdin at about RATE bytes/s (default
// 20 MB/s) and prints the number of lines it got, so the bench can check completeness.
const rate = Number(process.argv[2] ?? 20e6)
let lines = 0
process.stdin.on('data', (chunk) => {
  for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++
  process.stdin.pause()
  setTimeout(() => process.stdin.resume(), (chunk.length / rate) * 1000)
})
process.stdin.on('end', () => { process.stdout.write(`${lines}\n`) })
