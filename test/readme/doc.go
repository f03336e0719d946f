// Package readme holds no code, only a test that runs the README's shell
// blocks that work offline (bridge validate and render, the curl examples
// against bridge serve) and compares what they print with the output the
// README shows in comments. Every other shell block must be listed as
// needing AWS or as covered by another test, so a new block is not missed.
package readme
